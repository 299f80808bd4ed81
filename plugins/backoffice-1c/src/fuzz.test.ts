import { describeDecoderFuzz } from '@cfx/core/testing/fuzz';

// each decoder in its own worker: 1,000 random and mutated inputs, then the endless ones
describeDecoderFuzz(new URL('./fuzz-targets.js', import.meta.url), { numRuns: 1000 });
