import { useEffect, useRef, useState } from 'react';
import { dateTime, snoozeChoices } from './types';

/** "Snooze" with 1 h, tomorrow 9:00, next week and a custom time; calls `onSnooze` with the chosen instant. */
export function SnoozeMenu({ onSnooze, disabled, label = 'Snooze' }: { onSnooze: (until: Date) => void; disabled?: boolean; label?: string }) {
  const [open, setOpen] = useState(false);
  const [custom, setCustom] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);
  const pick = (until: Date) => {
    setOpen(false);
    onSnooze(until);
  };
  const customDate = custom ? new Date(custom) : null;
  const customOk = customDate !== null && !Number.isNaN(customDate.getTime()) && customDate.getTime() > Date.now();
  return (
    <div className="snooze" ref={ref}>
      <button type="button" className="button button--secondary button--small" aria-haspopup="menu" aria-expanded={open} disabled={disabled} onClick={() => setOpen((o) => !o)} data-testid="snooze">
        {label} ▾
      </button>
      {open ? (
        <div className="snooze__menu" role="menu">
          {snoozeChoices().map((c) => (
            <button key={c.id} type="button" role="menuitem" className="snooze__item" onClick={() => pick(c.until)} data-testid={`snooze-${c.id}`}>
              {c.label}
              <span className="snooze__when">{dateTime(c.until.toISOString())}</span>
            </button>
          ))}
          <form
            className="snooze__custom"
            onSubmit={(e) => {
              e.preventDefault();
              if (customOk) pick(customDate);
            }}
          >
            <input className="input input--compact" type="datetime-local" aria-label="Snooze until" value={custom} onChange={(e) => setCustom(e.target.value)} data-testid="snooze-custom-input" />
            <button type="submit" className="button button--primary button--small" disabled={!customOk} data-testid="snooze-custom">
              Set
            </button>
          </form>
        </div>
      ) : null}
    </div>
  );
}
