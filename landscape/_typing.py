"""The base of the package's values (:class:`Value`, an equinox Module) and jaxtyping aliases for the shapes
of DESIGN.md section 2, shared by the public signatures.

``d`` is ``dim``, ``k`` the number of sharp directions; ``...`` allows leading batch axes (a vmapped
landscape, wall or grid). Annotations only: nothing is checked at run time.
"""

import equinox as eqx
from jaxtyping import Array, ArrayLike, Bool, Float, Int

__all__ = ["Value", "Array", "ArrayLike", "Bool", "Float", "Int", "Scalars", "Normals", "Vector", "Vectors",
           "Points", "Levels", "Steps", "Rows", "RowFlags", "Paths", "Times", "Values",
           "Flags"]

#: a leaf with one value per landscape, wall or grid (a scalar, or a batch of them)
Scalars = Float[Array, "..."]
#: N, the k sharp directions as orthonormal rows (k, d)
Normals = Float[Array, "... k d"]
#: one point or direction in R^d
Vector = Float[Array, "... d"]
#: a vector in the k sharp coordinates (c(s), offsets, relative radii)
Vectors = Float[Array, "... k"]
#: points w of R^d with optional leading batch axes
Points = Float[Array, "*batch d"]
#: the sorted levels of a codebook (m,)
Levels = Float[Array, "... m"]
#: a trajectory's recorded rows (``rows``) and summaries, with the leading batch axes of a batch of runs
Steps = Int[Array, "*batch rows"]
Rows = Float[Array, "*batch rows"]
RowFlags = Bool[Array, "*batch rows"]
Paths = Float[Array, "*batch rows d"]
Times = Int[Array, "*batch"]
Values = Float[Array, "*batch"]
Flags = Bool[Array, "*batch"]


class Value(eqx.Module):
    """An equinox Module that hashes by its fields, or by identity when a field holds an (unhashable) array.

    Equal rules and optimizers (Python floats) hash equal, as static jit arguments need; a landscape or grid
    holding arrays hashes like the bound methods of a dataclass did, so ``jax.jit(landscape.loss)`` works.
    """

    def __hash__(self):
        try:
            return super().__hash__()
        except TypeError:  # an array leaf: unhashable by value
            return id(self)
