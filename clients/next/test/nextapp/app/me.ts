export interface Me {
  id: number
  name: string
  roles?: string[]
}
