using PowerService.Grains.Topology;

namespace PowerService.Grains.Dispatch;

/// <summary>A crew with free capacity as a storm batch sees it.</summary>
internal sealed record BatchCrew(string CrewId, GeoPoint Location, int SkillMask, int Load, int Capacity);

/// <summary>Plans a storm batch: every order against every free slot of the crews that could take it, the k-th slot of a
/// crew costing the wait behind k orders, solved exactly for the least total of travel, wait and SLA risk. Pure, so the
/// benchmark measures exactly what the dispatch grain does.</summary>
internal sealed class StormPlanner(DispatchScoring scoring)
{
    // A crew is offered to an order only if it is among the order's nearest few: keeps the matrix to about this many
    // columns per order (a thousand orders against 2,000 crews of five slots would otherwise be 10⁷ cells).
    private const int CandidatesPerOrder = 10;

    // Free slots beyond this multiple of the batch's orders are pruned to the crews offered.
    private const int SparseAbove = 3;

    /// <summary>The index in <paramref name="crews"/> chosen for each order, or -1 when it stays in the backlog.</summary>
    public int[] Plan(IReadOnlyList<DispatchRequest> orders, IReadOnlyList<BatchCrew> crews, DateTimeOffset now)
    {
        var travel = new double[orders.Count][];
        var offered = new int[crews.Count];
        for (var i = 0; i < orders.Count; i++)
        {
            var order = orders[i];
            var skill = 1 << (int)DispatchScoring.SkillForKind(order.Kind);
            travel[i] = new double[crews.Count];
            for (var c = 0; c < crews.Count; c++)
            {
                travel[i][c] = (crews[c].SkillMask & skill) == 0 || order.ExcludedCrews.Contains(crews[c].CrewId)
                    ? double.PositiveInfinity
                    : scoring.TravelMinutes(crews[c].Location, order.Location);
            }
            foreach (var c in Nearest(travel[i], CandidatesPerOrder))
            {
                offered[c]++;
            }
        }

        // With free slots to spare, a crew needs no more slots than orders it was offered to; when slots are scarce
        // every one is kept, so pruning never leaves an order unassigned that capacity could have taken.
        var totalFree = crews.Sum(c => Math.Max(0, c.Capacity - c.Load));
        var prune = totalFree > SparseAbove * orders.Count;
        var slots = new List<(int Crew, int Queued)>();
        for (var c = 0; c < crews.Count; c++)
        {
            var free = prune ? Math.Min(crews[c].Capacity - crews[c].Load, offered[c]) : crews[c].Capacity - crews[c].Load;
            for (var k = 0; k < free; k++)
            {
                slots.Add((c, crews[c].Load + k));
            }
        }
        var result = new int[orders.Count];
        Array.Fill(result, -1);
        if (orders.Count == 0 || slots.Count == 0)
        {
            return result;
        }

        var cost = new double[orders.Count * slots.Count];
        for (var i = 0; i < orders.Count; i++)
        {
            for (var j = 0; j < slots.Count; j++)
            {
                var (crew, queued) = slots[j];
                var minutes = travel[i][crew];
                cost[(i * slots.Count) + j] = double.IsPositiveInfinity(minutes)
                    ? BatchAssignment.Forbidden
                    : scoring.Cost(minutes, queued, orders[i], now);
            }
        }
        var assignment = BatchAssignment.Solve(cost, orders.Count, slots.Count);
        for (var i = 0; i < orders.Count; i++)
        {
            result[i] = assignment[i] < 0 ? -1 : slots[assignment[i]].Crew;
        }
        return result;
    }

    private static IEnumerable<int> Nearest(double[] minutes, int count) =>
        Enumerable.Range(0, minutes.Length)
            .Where(c => !double.IsPositiveInfinity(minutes[c]))
            .OrderBy(c => minutes[c])
            .Take(count);
}
