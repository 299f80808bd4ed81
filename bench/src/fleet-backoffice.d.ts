import type { PluginContext } from '@cfx/core/api';
export declare const FLEET_BACKOFFICE = "fleet-bench";
export interface FleetRound {
    round: number;
    file: string;
}
/** `round → terminal → ack time` from acks.tsv */
export declare function readAcks(dir: string): Map<number, Map<string, number>>;
export declare function activate(ctx: PluginContext): void;
