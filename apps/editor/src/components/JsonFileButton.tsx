import { useRef, type ReactNode } from 'react';

/** A button that opens a file picker for one JSON file; the input resets so the same file can be picked again. */
export function JsonFileButton({ className, testId, onFile, children }: { className: string; testId: string; onFile: (file: File) => void; children: ReactNode }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className={className} onClick={() => input.current?.click()} data-testid={testId}>
        {children}
      </button>
      <input
        ref={input}
        type="file"
        accept="application/json,.json"
        hidden
        data-testid={`${testId}-file`}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) onFile(file);
        }}
      />
    </>
  );
}
