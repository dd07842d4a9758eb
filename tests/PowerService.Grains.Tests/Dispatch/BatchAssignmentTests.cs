using PowerService.Grains.Dispatch;

namespace PowerService.Grains.Tests.Dispatch;

public sealed class BatchAssignmentTests
{
    [Theory]
    [InlineData(6, 6, 0.0)]
    [InlineData(5, 8, 0.2)]
    [InlineData(7, 4, 0.0)]
    [InlineData(6, 6, 0.4)]
    public void Finds_the_same_total_cost_as_trying_every_assignment(int rows, int columns, double forbiddenShare)
    {
        var random = new Random(rows * 100 + columns);
        for (var round = 0; round < 30; round++)
        {
            var cost = new double[rows * columns];
            for (var k = 0; k < cost.Length; k++)
            {
                cost[k] = random.NextDouble() < forbiddenShare ? BatchAssignment.Forbidden : Math.Round(random.NextDouble() * 100, 1);
            }

            var assignment = BatchAssignment.Solve(cost, rows, columns);

            var (bestAssigned, bestCost) = BruteForce(cost, rows, columns);
            Assert.Equal(bestAssigned, assignment.Count(c => c >= 0));
            Assert.Equal(bestCost, Total(cost, columns, assignment), 6);
            Assert.Equal(assignment.Count(c => c >= 0), assignment.Where(c => c >= 0).Distinct().Count());
            Assert.All(Enumerable.Range(0, rows).Where(r => assignment[r] >= 0), r => Assert.NotEqual(BatchAssignment.Forbidden, cost[(r * columns) + assignment[r]]));
        }
    }

    private static double Total(double[] cost, int columns, int[] assignment) =>
        assignment.Select((c, r) => c >= 0 ? cost[(r * columns) + c] : 0).Sum();

    /// <summary>Most rows assigned first, then the least cost: every injective partial assignment, by recursion.</summary>
    private static (int Assigned, double Cost) BruteForce(double[] cost, int rows, int columns)
    {
        var used = new bool[columns];
        (int, double) Best(int row)
        {
            if (row == rows)
            {
                return (0, 0);
            }
            var (assigned, total) = Best(row + 1);
            for (var c = 0; c < columns; c++)
            {
                var here = cost[(row * columns) + c];
                if (used[c] || double.IsPositiveInfinity(here))
                {
                    continue;
                }
                used[c] = true;
                var (a, t) = Best(row + 1);
                used[c] = false;
                if (a + 1 > assigned || (a + 1 == assigned && t + here < total))
                {
                    (assigned, total) = (a + 1, t + here);
                }
            }
            return (assigned, total);
        }
        return Best(0);
    }
}
