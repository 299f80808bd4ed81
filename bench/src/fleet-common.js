// What the fleet bench (fleet.ts) and its child (fleet-child.ts) share: the IPC messages and names.
import { performance } from 'node:perf_hooks';
export const terminalName = (i) => `t${String(i + 1).padStart(5, '0')}`;
/** wall-clock ms with sub-ms precision, comparable across processes */
export const epochMs = () => performance.timeOrigin + performance.now();
//# sourceMappingURL=fleet-common.js.map