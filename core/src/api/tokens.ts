/**
 * Typed service tokens (Backstage-style service refs). The DI facade only accepts these, so a
 * resolve() is typed without emitted decorator metadata.
 */
export interface ServiceToken<T> {
  readonly id: string;
  /** phantom: carries T for the type checker only */
  readonly __type?: T;
}

export function createToken<T>(id: string): ServiceToken<T> {
  return Object.freeze({ id: `cfx:${id}` }) as ServiceToken<T>;
}
