import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { ServiceToken } from '../api/tokens.js';

/**
 * The thin facade over tsyringe: typed tokens in, typed values out. Registration is by value or
 * factory only, so nothing depends on emitted decorator metadata (tsx/esbuild do not emit it).
 */
export class Services {
  constructor(readonly container: DependencyContainer = rootContainer.createChildContainer()) {}

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
    return this.container.resolve<T>(token.id);
  }

  has<T>(token: ServiceToken<T>): boolean {
    return this.container.isRegistered(token.id, true);
  }

  child(): Services {
    return new Services(this.container.createChildContainer());
  }
}
