// shared with the csv format: lives in core
export { batchIterator, SkipCounter } from '@cfx/core/text';
