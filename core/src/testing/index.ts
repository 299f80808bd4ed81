// @cfx/core/testing: what plugin authors use to prove their plugin behaves like the built-ins.
export { describeTransportConformance, type TransportConformanceOptions } from './transport-conformance.js';
export { MemoryTransport, memoryTransportProvider } from './memory-transport.js';
