#!/usr/bin/env node
// Plain JS shim so the bin link exists before the first build; the CLI itself is compiled TS.
import('../dist/cli/main.js')
  .then((m) => m.main(process.argv))
  .then((code) => { process.exitCode = code; })
  .catch((e) => {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') console.error('cfx: not built yet; run `npm run build` (npm ci does it)');
    else console.error(e);
    process.exitCode = 1;
  });
