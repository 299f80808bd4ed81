// @cfx/core/testing: what plugin authors use to prove their plugin behaves like the built-ins.
export { describeTransportConformance, type TransportConformanceOptions } from './transport-conformance.js';
export { describeFormatConformance, projectLike, type FormatConformanceOptions, type MalformedSample, type EncodingSample } from './format-conformance.js';
export { describeBackOfficeConformance, type BackOfficeConformanceOptions, type DeliveredSale, type InspectableBackOffice } from './backoffice-conformance.js';
export { createTestHost, runCliCaptured, type TestHost, type TestHostOptions, type CliResult } from './test-host.js';
export { SAMPLE_PRODUCTS, SAMPLE_PRICES, SAMPLE_SALES, generatedProduct, type PriceSample } from './samples.js';
export { HeapWatch, retainedBytes } from './heap.js';
export { MemoryTransport, memoryTransportProvider } from './memory-transport.js';
