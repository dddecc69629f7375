import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups for `notifications.watch`: whoever changes a user's notifications in this
 * process says so here, and that user's watchers re-read at once. Changes made by other processes
 * (and snoozes running out as the clock moves) are picked up by the watchers' poll.
 */
export const notificationChanges = new EventEmitter();
notificationChanges.setMaxListeners(0);

export const announceNotificationChange = (userId: string) => notificationChanges.emit('changed', userId);
