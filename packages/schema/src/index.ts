export * from './errors';
export * from './document';
export * from './diagnostics';
export * from './time';
export * from './events';
export * from './catalog';
export * from './nodes/common';
export { NotificationActionButtonSchema } from './nodes/actions';
export * from './template';
