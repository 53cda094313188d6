"""The graph IR. Imports nothing else of Ember's."""
from .graph import Graph, Node, iter_nodes, map_nodes, same_object
from .interpreter import interpret
from .meta import SUPPORTED_DTYPES, SourceLoc, TensorMeta, parse_dtype, short_dtype
from .ops import OPS, Op, OpKind, get_op
from .printer import format_graph, format_node
from .symbolic import Dim, SymbolicShapeError, dims_in, hint_size, infer_meta, is_static
from .verifier import GraphInvariantError, verify

__all__ = [
    "Graph", "Node", "iter_nodes", "map_nodes", "same_object", "interpret", "SUPPORTED_DTYPES", "SourceLoc",
    "TensorMeta", "parse_dtype", "short_dtype", "OPS", "Op", "OpKind", "get_op",
    "format_graph", "format_node", "GraphInvariantError", "verify",
    "Dim", "SymbolicShapeError", "dims_in", "hint_size", "infer_meta", "is_static",
]
