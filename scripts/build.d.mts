/** Types for scripts/build.mjs (plain JavaScript so that `npm start` needs no TypeScript loader). */
export declare const SERVER_NODE_ARGS: string[];
export declare const SERVER_ENTRY: string;
export declare function build(): void;
