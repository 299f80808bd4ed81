export declare const FTP_TARGET: {
    n: number;
    p99Ms: number;
};
export declare const NATS_TARGET: {
    n: number;
    p99Ms: number;
};
/** the fleet's own instance of the test servers (see the top of this file) */
export declare const FLEET_SERVERS_BASE: string;
export declare const FLEET_SERVERS_START: string;
export type FleetTransport = 'ftp' | 'nats';
export interface FleetOptions {
    /** N of the latency rounds */
    ns: number[];
    /** N of the CPU steps (the latency Ns are added) */
    steps: number[];
    rounds: number;
    /** CPU window per step, seconds */
    window: number;
    /** products in the published price file */
    items: number;
    transports: FleetTransport[];
    keep?: boolean;
    log?: (line: string) => void;
}
export interface FleetStep {
    n: number;
    windowS: number;
    /** % of one core, every server process summed */
    serverCpuPct: number;
    serverProcesses: number;
    /** % of one core: the process that runs the N terminals */
    fleetCpuPct: number;
    /** price-poll listings per second the fleet achieved (ideal: N / poll interval) */
    listsPerS: number;
    /** listings that failed in the window (the terminal backs off and retries) */
    listErrors: number;
    /** watches the terminals' price pulls started so far (0: the pull polls only) */
    watches: number;
    /** the most frequent list() errors since the start of this transport's run, with counts */
    errorKinds: [string, number][];
    fleetRssMb: number;
    /** time to open and start the terminals added in this step */
    openS: number;
    loadavg: number[];
}
export interface FleetRound {
    round: number;
    /** the office's publish run: start → every terminal's file renamed into its inbox */
    publishMs: number;
    /** per terminal: file landed (ack) → applied (COMMIT at the terminal) */
    landedToApplied: {
        p50Ms: number;
        p99Ms: number;
        maxMs: number;
    };
    /** per terminal: publish start → applied */
    publishToApplied: {
        p50Ms: number;
        p99Ms: number;
        maxMs: number;
    };
    missing: number;
    wrong: string[];
    /** the five terminals that applied last, with their failed listings so far */
    late: {
        terminal: string;
        appliedAt: number;
        listErrors: number;
        lastError?: string;
    }[];
}
export interface FleetLatency {
    n: number;
    rounds: FleetRound[];
    /** median over rounds of each round's p99 (landed → applied) */
    p99Ms: number;
    p50Ms: number;
}
export interface FleetTransportResult {
    transport: FleetTransport;
    skipped?: string;
    server?: string;
    pollMs?: number;
    steps: FleetStep[];
    latency: FleetLatency[];
    /** first step where the server used ≥ 90 % of a core, if any */
    saturationN?: number;
    /** the largest step where every listing succeeded and the fleet listed ≥ 95 % of N per poll interval */
    keepsUpToN?: number;
    /** the first step where it did not (failed listings, or fewer listings than the terminals ask for) */
    fallsBehindAtN?: number;
    /** N at which the server would reach one core, extrapolated linearly from the largest step that kept up */
    extrapolatedSaturationN?: number;
    target?: {
        n: number;
        p99TargetMs: number;
        p99Ms: number;
        pass: boolean;
    };
}
export interface FleetResult {
    bench: 'fleet';
    scratch: string;
    scratchFs: string;
    items: number;
    transports: FleetTransportResult[];
}
export declare function fleetBench(o: FleetOptions): Promise<FleetResult>;
export declare function renderFleet(r: FleetResult): string;
