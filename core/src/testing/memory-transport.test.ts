import { describeTransportConformance } from './transport-conformance.js';
import { MemoryTransport } from './memory-transport.js';

describeTransportConformance('memory://', { create: () => new MemoryTransport('conformance'), root: '/conformance/run' });
