// Types of documented-nginx.mjs for the TypeScript tests.
export declare const documentedNginx: string;
export declare function documentedBlocks(upstreamPort: number): { http: string; locations: string };
