import { PERSONALITY_TRAITS, type FeedbackType } from '@switchyard/schema';
import { useEffect, useId, useRef, useState } from 'react';
import { FEEDBACK, TRAIT_LABEL, feedbackLabel } from './shared';

/** The feedback options side by side per trait: "Formality: Too formal | Too casual". */
const BY_TRAIT = PERSONALITY_TRAITS.map((trait) => ({ trait, options: FEEDBACK.filter((f) => f.trait === trait) }));

/**
 * Under an assistant message: the feedback already given on it (chips), and a small "Feedback"
 * button that opens the options grouped by the trait each one moves. One click sends it.
 */
export function MessageFeedback({ given, onGive }: { given: readonly FeedbackType[]; onGive: (type: FeedbackType) => Promise<boolean> }) {
  const [open, setOpen] = useState(false);
  const [sending, setSending] = useState<FeedbackType | null>(null);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);

  // Escape or a click elsewhere closes the options.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    const onDown = (e: PointerEvent) => {
      if (root.current && e.target instanceof Node && !root.current.contains(e.target)) setOpen(false);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('pointerdown', onDown);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('pointerdown', onDown);
    };
  }, [open]);

  const give = async (type: FeedbackType) => {
    setSending(type);
    const ok = await onGive(type);
    setSending(null);
    if (ok) setOpen(false);
  };

  return (
    <div className="msg__feedback" ref={root} data-testid="feedback">
      {given.map((f, i) => (
        <span key={`${f}-${i}`} className="chip chip--done chip--static" data-testid="feedback-given" title={`You said: ${feedbackLabel(f)}`}>
          ✓ {feedbackLabel(f)}
        </span>
      ))}
      <button
        type="button"
        className="msg__feedback-toggle"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
        data-testid="feedback-toggle"
      >
        {given.length ? 'More feedback' : 'Feedback'}
        <span aria-hidden="true" className="msg__feedback-caret">
          ▾
        </span>
      </button>
      {open ? <span className="msg__feedback-break" aria-hidden="true" /> : null}
      {open ? (
        <div id={panelId} className="feedback-menu" role="group" aria-label="Feedback on this reply" data-testid="feedback-menu">
          {BY_TRAIT.map(({ trait, options }) => (
            <div key={trait} className="feedback-menu__row">
              <span className="feedback-menu__trait">{TRAIT_LABEL[trait].label}</span>
              {options.map((f) => {
                const done = given.includes(f.id);
                return (
                  <button
                    key={f.id}
                    type="button"
                    className={`chip${done ? ' chip--done' : ''}`}
                    disabled={done || sending !== null}
                    onClick={() => void give(f.id)}
                    title={done ? 'Already given on this reply' : `Adjusts ${TRAIT_LABEL[trait].label.toLowerCase()}`}
                    data-testid={`feedback-${f.id}`}
                  >
                    {done ? '✓ ' : ''}
                    {f.label}
                  </button>
                );
              })}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
