// The part of next/headers the package uses. `next` is an optional peer
// dependency and is not installed to build the package.
declare module 'next/headers' {
  export function headers(): Promise<{ get(name: string): string | null }>
  export function cookies(): Promise<{ get(name: string): { name: string; value: string } | undefined }>
}
