/** Column shorthands shared by the entity schemas; the SQL in migrations/ is the source of truth. */
export const uuidPk = { type: 'uuid', primary: true } as const;
export const uuid = { type: 'uuid' } as const;
export const uuidNull = { type: 'uuid', nullable: true } as const;
export const text = { type: 'text' } as const;
export const textNull = { type: 'text', nullable: true } as const;
export const int = { type: 'integer' } as const;
export const bool = { type: 'boolean' } as const;
export const json = { type: 'json' } as const;
export const jsonNull = { type: 'json', nullable: true } as const;
export const ts = { type: 'Date', columnType: 'timestamptz' } as const;
export const tsNull = { type: 'Date', columnType: 'timestamptz', nullable: true } as const;
