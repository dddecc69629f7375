import { useState } from 'react';

/** Read-only stars for an average (to the nearest half) with the count beside. */
export function Stars({ average, count }: { average: number; count?: number }) {
  const rounded = Math.round(average * 2) / 2;
  return (
    <span className="mp-stars" aria-label={count === 0 ? 'No ratings yet' : `Rated ${average.toFixed(1)} out of 5${count === undefined ? '' : ` by ${count}`}`} data-testid="stars">
      <span aria-hidden="true">
        {[1, 2, 3, 4, 5].map((i) => (
          <span key={i} className={`mp-star${rounded >= i ? ' mp-star--on' : rounded >= i - 0.5 ? ' mp-star--half' : ''}`}>★</span>
        ))}
      </span>
      {count === undefined ? null : <span className="mp-stars__text">{count === 0 ? 'No ratings' : `${average.toFixed(1)} (${count})`}</span>}
    </span>
  );
}

/** Five buttons to choose a rating; a radio group for keyboards and screen readers. */
export function StarInput({ value, onChange, disabled }: { value: number; onChange: (stars: number) => void; disabled?: boolean }) {
  const [hover, setHover] = useState(0);
  const shown = hover || value;
  return (
    <span className="mp-star-input" role="radiogroup" aria-label="Your rating" onMouseLeave={() => setHover(0)}>
      {[1, 2, 3, 4, 5].map((i) => (
        <button
          key={i}
          type="button"
          role="radio"
          aria-checked={value === i}
          aria-label={`${i} star${i === 1 ? '' : 's'}`}
          className={`mp-star-input__star${shown >= i ? ' mp-star--on' : ''}`}
          onMouseEnter={() => setHover(i)}
          onClick={() => onChange(i)}
          disabled={disabled}
          data-testid={`rate-${i}`}
        >
          ★
        </button>
      ))}
    </span>
  );
}
