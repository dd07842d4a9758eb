namespace PowerService.LoadTests.Harness;

internal static class Statistics
{
    public static double Median(IReadOnlyList<double> values) => Percentile([.. values.Order()], 0.5);

    /// <summary>Nearest-rank percentile of an ascending array.</summary>
    public static double Percentile(double[] ascending, double fraction)
    {
        if (ascending.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(fraction * ascending.Length);
        return ascending[Math.Clamp(rank - 1, 0, ascending.Length - 1)];
    }
}
