/** The Switchyard mark: two tracks merging at a switch. */
export function Logo({ size = 24 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path
        d="M9 10h8a4 4 0 0 1 4 4a4 4 0 0 0 4 4M9 22h8a4 4 0 0 0 4-4"
        fill="none"
        stroke="#fff"
        strokeWidth="2.5"
        strokeLinecap="round"
      />
      <circle cx="9" cy="10" r="2" fill="#fff" />
      <circle cx="9" cy="22" r="2" fill="#fff" />
    </svg>
  );
}
