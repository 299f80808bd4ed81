import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** Office-role commands (collect, sales listing for the office). */
export function registerOfficeCommands(_program: Command, _ctx: CliContext): void {}
