import { useCallback } from 'react';
import { useLeaveGuard } from '../router';
import { useConfirm } from './ConfirmDialog';

/**
 * While `when`, leaving through the app's links or the browser's Back/Forward asks first in a
 * ConfirmDialog ("Stay" is the safe answer); closing or reloading the tab gets the browser's own
 * prompt instead.
 */
export function LeaveGuard({ when, title, description, leaveLabel }: { when: boolean; title: string; description: string; leaveLabel: string }) {
  const { dialog, ask } = useConfirm();
  const hold = useCallback(
    (leave: () => void) =>
      void ask({ title, description, confirmLabel: leaveLabel, cancelLabel: 'Stay' }).then((ok) => {
        if (ok) leave();
      }),
    [ask, title, description, leaveLabel],
  );
  useLeaveGuard(when ? hold : null);
  return dialog;
}
