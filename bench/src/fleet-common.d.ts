export interface FleetChildSpec {
    /** server URL of every terminal (ftp://… or nats://…) */
    server: string;
    /** prices.dir (`{terminal}` in it: each terminal's inbox) and sales.dir */
    inboxDir: string;
    salesDir: string;
    /** where the terminals' deployments (cfx.yaml + dataDir) go */
    scratch: string;
    /** prices.poll, ms; each terminal starts at a random moment within one (a fleet does not poll in step) */
    pollMs: number;
    /** one log file for the whole fleet (warnings and errors only) */
    logFile: string;
    /** more YAML for every terminal's cfx.yaml (plugins, transport options) */
    extra?: string;
}
export type FleetRequest = {
    op: 'grow';
    n: number;
} | {
    op: 'counts';
} | {
    op: 'await';
    since: number;
    n: number;
    expect: {
        code: string;
        price: number;
    };
    timeoutMs: number;
} | {
    op: 'close';
};
export declare const terminalName: (i: number) => string;
/** wall-clock ms with sub-ms precision, comparable across processes */
export declare const epochMs: () => number;
