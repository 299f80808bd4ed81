export declare const REPO: string;
export declare const CFX_BIN: string;
export declare const BENCH_DIST: string;
export declare const OUT_DIR: string;
export interface Servers {
    ftpUrl: string;
    /** local path of the FTP user's root (remote `/x` is `${ftpRoot}/x`) */
    ftpRoot: string;
}
/** $CFX_TEST_BASE/servers.env, written by test/servers/start.sh, as KEY → value; or a clear error */
export declare function serversEnv(base?: string): {
    file: string;
    raw: Record<string, string>;
};
/** The vsftpd of the test servers, or a clear error. */
export declare function servers(): Servers;
/** local path of a remote FTP path */
export declare function ftpRootPath(s: Servers, remote: string): string;
/** uid/gid of the FTP user (cfxftp), so files placed on disk are the server's to delete */
export declare function ftpOwner(s: Servers): {
    uid: number;
    gid: number;
} | undefined;
/** mkdir -p under the FTP root, every created level owned by the FTP user */
export declare function ftpMkdir(s: Servers, remote: string): string;
export declare function chownFtp(s: Servers, local: string): void;
export declare function freshRemoteDir(label: string): string;
/** where dataDirs and the peer's databases go: the machine's tmpdir (a terminal's disk) unless told */
export declare function scratchRoot(): string;
export declare function fsType(path: string): string;
export interface Deployment {
    dir: string;
    config: string;
    dataDir: string;
    inbox: string;
    terminal: string;
}
/** a terminal deployment (cfx.yaml + its own dataDir) in a fresh scratch dir */
export declare function terminalDeployment(o: {
    server: string;
    remoteBase: string;
    poll?: string;
    extra?: string;
    logLevel?: string;
}): Deployment;
export declare function median(xs: number[]): number;
export declare function quantile(xs: number[], q: number): number;
export declare const fmtInt: (n: number) => string;
export declare const fmt: (n: number, d?: number) => string;
export declare function verdict(ok: boolean): string;
/** minimal --flag value / --flag=value parser */
export declare function parseArgs(argv: string[]): Map<string, string>;
export declare function intArg(args: Map<string, string>, name: string, def: number): number;
/** CPU time of a process in ticks (user and system, all its threads, from /proc/<pid>/stat) */
export declare function procCpuTicks(pid: number): {
    user: number;
    system: number;
    total: number;
};
/** on-CPU nanoseconds of every live thread of a process (/proc/<pid>/task/<tid>/schedstat, first field) */
export declare function procCpuNs(pid: number): number;
/** clock ticks per second of /proc/<pid>/stat times (asked once, when first needed) */
export declare function clockTicks(): number;
export declare function vmHwmKb(pid?: number | 'self'): number;
type Applied = {
    name: string;
    result: 'applied';
    mode: 'full' | 'delta';
    records: number;
    bytes: number;
};
/**
 * Cycles a price pull until it applies `fileName`: the file comes with its flag, so the first cycle
 * normally takes it; a few more only if it does not. start/end: performance.now() around the cycle
 * that took it.
 */
export declare function pullUntilApplied(pull: {
    cycle(): Promise<{
        files: Array<{
            name: string;
            result: string;
        }>;
    }>;
}, fileName: string): Promise<{
    outcome: Applied;
    cycles: number;
    start: number;
    end: number;
}>;
export {};
