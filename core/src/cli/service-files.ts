// What `cfx service install` writes: a systemd unit (Linux) or a WinSW service definition (Windows).
// Pure text generation, so a test can check both anywhere (systemd-analyze verify, xmllint).
import { homedir } from 'node:os';
import { basename, dirname, join, posix, win32 } from 'node:path';
import type { CfxConfig } from '../config/index.js';

export type ServicePlatform = 'linux' | 'windows';

export interface ServiceSpec {
  /** `cfx-<terminal>` / `cfx-office`: the unit / service id */
  name: string;
  description: string;
  /** absolute path of the node binary */
  node: string;
  /** absolute path of cfx's bin script (core/bin/cfx.js) */
  bin: string;
  /** absolute path of cfx.yaml */
  config: string;
  /** KEY=value file with the secrets the config refers to */
  envFile: string;
  /** what the service writes: dataDir and the log file's dir */
  readWrite: string[];
  /** a systemd user unit (`systemctl --user`) instead of a system one */
  user: boolean;
  /** system unit: run as this user (User=) instead of root */
  runAs?: string;
}

/** `cfx-<terminal id>` for a till, `cfx-office` for the office: one service per config on a machine */
export function serviceName(c: CfxConfig): string {
  return `cfx-${c.role === 'terminal' ? c.terminal : 'office'}`;
}

/** Where the files go by default: the unit (or XML) and the env file. */
export function servicePaths(name: string, o: { platform: ServicePlatform; user: boolean; configDir: string; home?: string }): { definition: string; envFile: string } {
  if (o.platform === 'windows') {
    // WinSW wants its XML beside its exe (named alike); the env file sits with them, ACL-restricted
    const p = o.configDir.includes('\\') ? win32 : posix;
    return { definition: p.join(o.configDir, `${name}.xml`), envFile: p.join(o.configDir, `${name}.env`) };
  }
  const home = o.home ?? homedir();
  return o.user
    ? { definition: join(home, '.config', 'systemd', 'user', `${name}.service`), envFile: join(home, '.config', 'cfx', `${name}.env`) }
    : { definition: join('/etc/systemd/system', `${name}.service`), envFile: join('/etc/cfx', `${name}.env`) };
}

/** the env file's first content: a comment and the variables to fill in, never a value */
export function envFileTemplate(name: string, vars: string[], platform: ServicePlatform): string {
  const lines = [
    `# Secrets of the ${name} service, one NAME=value a line (read by ${platform === 'windows' ? 'node --env-file' : 'systemd: EnvironmentFile='}).`,
    `# Only the service's account may read this file${platform === 'windows' ? ' (icacls, see docs/windows.md)' : ' (mode 0600)'}. cfx.yaml refers to them as \${NAME}.`,
    ...vars.map((v) => `# ${v}=`),
  ];
  return lines.join(platform === 'windows' ? '\r\n' : '\n') + (platform === 'windows' ? '\r\n' : '\n');
}

/**
 * One word of a systemd command line or path list: double-quoted when needed, `\` and `"` escaped,
 * `%` doubled (a specifier otherwise) and `$` doubled (an environment variable otherwise).
 */
export function systemdWord(s: string): string {
  const esc = s.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(esc) || esc === '' ? `"${esc.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : esc;
}

/** a value systemd takes whole (WorkingDirectory=, EnvironmentFile=): only the specifiers escaped */
const systemdPath = (s: string) => s.replace(/%/g, '%%');

export function systemdUnit(s: ServiceSpec): string {
  const exec = [s.node, s.bin, '--config', s.config, 'run'].map(systemdWord).join(' ');
  const lines = [
    `# ${s.name}: written by "cfx service install" for ${s.config}`,
    `# Remove it with "cfx service uninstall"; the secrets are in ${s.envFile}.`,
    '[Unit]',
    `Description=${s.description}`,
    'Documentation=man:systemd.service(5)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    `WorkingDirectory=${systemdPath(dirname(s.config))}`,
    `EnvironmentFile=${systemdPath(s.envFile)}`,
    ...(s.runAs && !s.user ? [`User=${s.runAs}`] : []),
    // cfx run exits 0 on SIGTERM after finishing the step in flight; anything else is a failure
    'Restart=on-failure',
    'RestartSec=5s',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=90s',
    `SyslogIdentifier=${s.name}`,
    'NoNewPrivileges=yes',
  ];
  if (s.user) {
    // a user manager can apply the file-system sandbox only with user namespaces: a system unit has it
    lines.push('# ProtectSystem=, PrivateTmp= and ReadWritePaths= need a system unit ("cfx service install" without --user).');
  } else {
    lines.push(
      'ProtectSystem=strict',
      'ProtectHome=read-only',
      `ReadWritePaths=${s.readWrite.map(systemdWord).join(' ')}`,
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'ProtectControlGroups=yes',
      'RestrictSUIDSGID=yes',
      'LockPersonality=yes',
    );
  }
  lines.push('', '[Install]', `WantedBy=${s.user ? 'default.target' : 'multi-user.target'}`, '');
  return lines.join('\n');
}

/** a comment may not hold "--" (nor end in "-") */
const xmlComment = (s: string) => s.replace(/-(?=-)/g, '- ').replace(/-$/, '- ');
const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** one argument of a Windows command line (CommandLineToArgvW rules): quoted when it has a space or a quote */
export function windowsArg(s: string): string {
  if (s !== '' && !/[\s"]/.test(s)) return s;
  // backslashes before a quote (and before the closing quote) are doubled
  return `"${s.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

/**
 * A WinSW service definition (the XML beside WinSW's exe, named alike): node with --env-file (the
 * secrets), restart on failure, WinSW's own rolled log of stdout/stderr.
 */
export function winswXml(s: ServiceSpec): string {
  const args = [`--env-file=${s.envFile}`, s.bin, '--config', s.config, 'run'].map(windowsArg).join(' ');
  const dir = s.config.includes('\\') ? win32.dirname(s.config) : posix.dirname(s.config);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- ${xmlComment(`${s.name}: written by cfx service install (platform windows) for ${basename(s.config)}.`)}`,
    `     ${xmlComment(`Register it: put WinSW's exe beside this file as ${s.name}.exe, then "${s.name}.exe install" (docs/windows.md).`)} -->`,
    '<service>',
    `  <id>${xmlText(s.name)}</id>`,
    `  <name>${xmlText(s.name)}</name>`,
    `  <description>${xmlText(s.description)}</description>`,
    `  <executable>${xmlText(s.node)}</executable>`,
    `  <arguments>${xmlText(args)}</arguments>`,
    `  <workingdirectory>${xmlText(dir)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    '  <delayedAutoStart>true</delayedAutoStart>',
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <onfailure action="restart" delay="30 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    // cfx run finishes the step in flight on Ctrl+C / stop, like SIGTERM on Linux
    '  <stoptimeout>90 sec</stoptimeout>',
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    '</service>',
    '',
  ].join('\r\n');
}
