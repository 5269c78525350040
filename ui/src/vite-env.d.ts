/// <reference types="svelte" />
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** "1" installs the in-memory fake backend (dev only). */
  readonly VITE_PROCDECK_MOCK?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
