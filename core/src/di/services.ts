import { createRequire } from 'node:module';
import type { DependencyContainer } from 'tsyringe';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { Deps, Resolved } from '../api/job.js';
import type { ServiceToken } from '../api/tokens.js';

/**
 * The thin facade over tsyringe: typed tokens in, typed values out. Registration is by value or
 * factory only, so nothing depends on emitted decorator metadata (tsx/esbuild do not emit it).
 */
// tsyringe (+ its reflect polyfill, ~10 ms) is loaded by the first container made, i.e. when a
// command first resolves a service (runs a job), not by every command that opens the deployment
let root: DependencyContainer | undefined;
function rootContainer(): DependencyContainer {
  if (!root) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    root = (require('tsyringe') as { container: DependencyContainer }).container;
  }
  return root;
}

export class Services {
  constructor(readonly container: DependencyContainer = rootContainer().createChildContainer()) {}

  value<T>(token: ServiceToken<T>, value: T): this {
    this.container.register(token.id, { useValue: value });
    return this;
  }

  /** a lazily built singleton */
  factory<T>(token: ServiceToken<T>, make: (s: Services) => T): this {
    let made = false;
    let v: T;
    this.container.register(token.id, {
      useFactory: () => {
        if (!made) {
          v = make(this);
          made = true;
        }
        return v;
      },
    });
    return this;
  }

  resolve<T>(token: ServiceToken<T>): T {
    // tsyringe throws a plain Error for an unknown token: say which ref is missing, with a code
    if (!this.container.isRegistered(token.id, true)) {
      throw new CfxError(ErrorCodes.INTERNAL, `no service is registered for ${token.id}`, { details: { ref: token.id } });
    }
    return this.container.resolve<T>(token.id);
  }

  /**
   * Every ref of a deps record, resolved; all missing ones are named at once (checked when a job is
   * created, so a wiring mistake fails at start-up, not at the first cron tick).
   */
  resolveDeps<D extends Deps>(deps: D, owner: string): Resolved<D> {
    const missing = Object.entries(deps).filter(([, t]) => !this.container.isRegistered(t.id, true));
    if (missing.length) {
      throw new CfxError(ErrorCodes.JOB_FAILED, `${owner} needs ${missing.map(([k, t]) => `${k} (${t.id})`).join(', ')}, which nothing provides`, {
        details: { missing: missing.map(([, t]) => t.id) },
      });
    }
    return Object.freeze(Object.fromEntries(Object.entries(deps).map(([k, t]) => [k, this.container.resolve(t.id)]))) as Resolved<D>;
  }

  has<T>(token: ServiceToken<T>): boolean {
    return this.container.isRegistered(token.id, true);
  }

  child(): Services {
    return new Services(this.container.createChildContainer());
  }
}
