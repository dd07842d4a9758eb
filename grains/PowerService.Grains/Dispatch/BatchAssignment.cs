namespace PowerService.Grains.Dispatch;

/// <summary>Minimum-cost assignment of orders (rows) to crew capacity slots (columns): the Hungarian method with
/// potentials (shortest augmenting paths, O(rows² × columns)). Exact, and measured fast enough for storm batches of a
/// thousand orders (docs/benchmarks.md, Dispatch), so storm mode uses it rather than a heuristic. A warm start (row
/// minima as potentials, tight edges matched up front) was tried and measured no faster, so it is not here.</summary>
internal static class BatchAssignment
{
    /// <summary>Marks a pair that may not be assigned.</summary>
    public const double Forbidden = double.PositiveInfinity;

    // Cost of leaving a row unassigned when it cannot or should not take any column: above any real cost in minutes,
    // small enough to keep the potentials' arithmetic exact.
    private const double Unassigned = 1e7;

    /// <summary>The column of each row (-1: unassigned) minimising the total cost. <paramref name="cost"/> is row-major,
    /// <paramref name="rows"/> × <paramref name="columns"/>; a row with no allowed column, or more rows than columns,
    /// leaves rows unassigned.</summary>
    public static int[] Solve(double[] cost, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(cost.Length, rows * columns);
        // Each row gets its own "unassigned" column when some row might need one; otherwise the matrix stays as is.
        // A forbidden pair costs more than leaving the row unassigned, so it is never chosen while staying finite.
        var needsSpare = rows > columns || Array.IndexOf(cost, Forbidden) >= 0;
        var width = needsSpare ? columns + rows : columns;
        var finite = needsSpare ? Array.ConvertAll(cost, c => double.IsPositiveInfinity(c) ? Unassigned * 2 : c) : cost;

        // 1-based arrays as in the textbook formulation: index 0 is the virtual start column.
        var u = new double[rows + 1];
        var v = new double[width + 1];
        var owner = new int[width + 1];
        var way = new int[width + 1];
        var minv = new double[width + 1];
        var used = new bool[width + 1];
        for (var row = 1; row <= rows; row++)
        {
            owner[0] = row;
            var j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[j0] = true;
                var i0 = owner[j0];
                var ui = u[i0];
                var rowStart = ((i0 - 1) * columns) - 1;
                var delta = double.PositiveInfinity;
                var j1 = 0;
                for (var j = 1; j <= width; j++)
                {
                    if (used[j])
                    {
                        continue;
                    }
                    // Another row's spare column is out of reach from this row, but may still be the nearest from an
                    // earlier row of the path, so its minv is compared all the same.
                    var c = j <= columns ? finite[rowStart + j] : (j - columns == i0 ? Unassigned : double.PositiveInfinity);
                    var reduced = c - ui - v[j];
                    if (reduced < minv[j])
                    {
                        minv[j] = reduced;
                        way[j] = j0;
                    }
                    if (minv[j] < delta)
                    {
                        delta = minv[j];
                        j1 = j;
                    }
                }
                for (var j = 0; j <= width; j++)
                {
                    if (used[j])
                    {
                        u[owner[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            }
            while (owner[j0] != 0);
            do
            {
                var j1 = way[j0];
                owner[j0] = owner[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        var assignment = new int[rows];
        Array.Fill(assignment, -1);
        for (var j = 1; j <= columns; j++)
        {
            if (owner[j] != 0 && !double.IsPositiveInfinity(cost[((owner[j] - 1) * columns) + j - 1]))
            {
                assignment[owner[j] - 1] = j - 1;
            }
        }
        return assignment;
    }
}
