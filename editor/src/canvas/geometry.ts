// Where things are before React Flow has measured them: a workflow node's size and port handles, and the
// viewport a canvas opens at.
//
// React Flow draws a node hidden until a ResizeObserver has measured it and its handles, and draws edges only
// after that, so a large workflow used to be drawn three times before anything showed: hidden at zoom 1,
// measured, then again at the fitted zoom (where FlowNode is compact). A node now comes with the size and
// handles it will have (as `measured` and `handles`): the first draw shows every node and edge at the fitted
// zoom, and when the ResizeObserver reports the same size React Flow has nothing to redo. A node whose size
// differs (a run state below its ports, say) is measured again as usual, handles included. The figures below
// follow styles.css (.flow-node and its fixed line heights); tests/e2e/test_canvas_geometry.py fails if the
// two drift apart.
import { getNodesBounds, getViewportForBounds, Position, type NodeHandle, type Node, type Viewport } from '@xyflow/react'
import type { Port } from '../api/types'

export const FIT_PADDING = 0.25
export const MIN_ZOOM = 0.1
export const FIT_MAX_ZOOM = 1

const NODE_WIDTH = 200 // .flow-node
const BORDER = 1
const HEAD = 51 // 10 px + 32 px of titles + 8 px of padding, 1 px border
const PORTS_PAD = 6 // .flow-node-ports
const ROW = 22 // a 20 px .port and the 2 px gap
const HANDLE = 11 // .flow-node .handle, centred on the node's edge

const rows = (inputs: Port[], outputs: Port[]) => Math.max(inputs.length, outputs.length, 1)

/** The node's height without a run state: borders, head, and port rows in their padding. */
const nodeHeight = (inputs: Port[], outputs: Port[]) => 2 * BORDER + HEAD + 2 * PORTS_PAD + ROW * rows(inputs, outputs) - 2

/** React Flow's `measured` and `handles` for a node not yet measured. */
export function firstDraw(id: string, inputs: Port[], outputs: Port[]) {
  const y = (i: number) => BORDER + HEAD + PORTS_PAD + ROW * i + (ROW - 2) / 2 - HANDLE / 2
  const handles: NodeHandle[] = [
    ...inputs.map((p, i) => ({ id: p.name, nodeId: id, type: 'target' as const, position: Position.Left,
      x: BORDER - HANDLE / 2, y: y(i), width: HANDLE, height: HANDLE })),
    ...outputs.map((p, i) => ({ id: p.name, nodeId: id, type: 'source' as const, position: Position.Right,
      x: NODE_WIDTH - BORDER - HANDLE / 2, y: y(i), width: HANDLE, height: HANDLE })),
  ]
  return { measured: { width: NODE_WIDTH, height: nodeHeight(inputs, outputs) }, handles }
}

export function openingViewport(nodes: Node[], box: { width: number; height: number }): Viewport | undefined {
  if (!nodes.length || !box.width || !box.height) return undefined
  // Every node here has a size: its `measured` (firstDraw's, or React Flow's) or a note's width and height.
  return getViewportForBounds(getNodesBounds(nodes), box.width, box.height, MIN_ZOOM, FIT_MAX_ZOOM, FIT_PADDING)
}
