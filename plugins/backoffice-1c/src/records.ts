// shared with the csv format: lives in core
export { batchIterator } from '@cfx/core/text';
