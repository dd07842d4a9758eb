namespace PowerService.Api.Live;

/// <summary>Latencies counted in buckets a quarter of a doubling wide (1 µs to about 9 minutes), recorded without a
/// lock: the monitor hears every sampled grain call from every thread, which a list under the sampler's lock made
/// contend on that lock and grow (and sort) with the call rate. A percentile read from it is within 10 % of the exact
/// one, enough for a chart.</summary>
internal sealed class LatencyHistogram
{
    // A double's exponent and its top two mantissa bits: four buckets per power of two, found without a logarithm.
    private const int MantissaShift = 50;
    private static readonly long FirstBucket = BitConverter.DoubleToInt64Bits(1.0) >> MantissaShift;
    private const int Buckets = 4 * 29;

    private readonly long[] _counts = new long[Buckets];

    public void Record(double milliseconds)
    {
        var microseconds = milliseconds * 1000;
        var bucket = microseconds < 1 ? 0 : (int)Math.Min((BitConverter.DoubleToInt64Bits(microseconds) >> MantissaShift) - FirstBucket, Buckets - 1);
        Interlocked.Increment(ref _counts[bucket]);
    }

    /// <summary>The given percentiles (fractions, ascending) of what was recorded since the last call, in ms, each the
    /// middle of its bucket; 0 when nothing was recorded. Starts the next period.</summary>
    public double[] TakePercentiles(params double[] fractions)
    {
        var counts = new long[Buckets];
        long total = 0;
        for (var i = 0; i < Buckets; i++)
        {
            total += counts[i] = Interlocked.Exchange(ref _counts[i], 0);
        }
        var result = new double[fractions.Length];
        if (total == 0)
        {
            return result;
        }
        long seen = 0;
        var next = 0;
        for (var i = 0; i < Buckets && next < fractions.Length; i++)
        {
            seen += counts[i];
            while (next < fractions.Length && seen > fractions[next] * total)
            {
                result[next++] = Middle(i);
            }
        }
        while (next < fractions.Length)
        {
            result[next++] = Middle(Buckets - 1);
        }
        return result;
    }

    private static double Middle(int bucket)
    {
        var low = BitConverter.Int64BitsToDouble((bucket + FirstBucket) << MantissaShift);
        var high = BitConverter.Int64BitsToDouble((bucket + 1 + FirstBucket) << MantissaShift);
        return (low + high) / 2 / 1000;
    }
}
