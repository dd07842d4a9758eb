using PowerService.Runtime;

namespace PowerService.LoadTests.Grains;

public interface IReminderGrain : IGrain
{
    /// <summary>Does nothing: activates the grain without registering anything.</summary>
    Task Touch();

    /// <summary>Registers (or moves) this grain's one-shot reminder to fire after <paramref name="due"/>.</summary>
    Task Schedule(TimeSpan due);
}

internal sealed class ReminderGrain(TickRecorder recorder) : Grain, IReminderGrain, IRemindable
{
    public const string ReminderName = "benchmark";

    public Task Touch() => Task.CompletedTask;

    public Task Schedule(TimeSpan due) => RegisterOrUpdateReminder(ReminderName, due, TimeSpan.Zero);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        recorder.Record(status);
        return Task.CompletedTask;
    }
}

/// <summary>Collects reminder ticks into arrays sized up front, so recording costs no allocation or lock.</summary>
internal sealed class TickRecorder(int capacity)
{
    private readonly double[] _latenessMs = new double[capacity];
    private readonly long[] _firedAtMs = new long[capacity];
    private int _count;

    public int Count => Math.Min(Volatile.Read(ref _count), capacity);

    /// <summary>Ticks beyond the capacity: a reminder that fired twice would show here.</summary>
    public int Overflow => Math.Max(0, Volatile.Read(ref _count) - capacity);

    public void Record(TickStatus status)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        if (index < capacity)
        {
            _latenessMs[index] = (status.FiredAt - status.DueAt).TotalMilliseconds;
            _firedAtMs[index] = status.FiredAt.ToUnixTimeMilliseconds();
        }
    }

    public double[] SortedLatenessMs()
    {
        var sorted = _latenessMs.AsSpan(0, Count).ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    /// <summary>Ticks later than <paramref name="thresholdMs"/>, grouped into bursts by due time (a gap of a second or
    /// more starts a new burst): shows whether lateness is spread out or comes in episodes.</summary>
    public IReadOnlyList<LateBurst> LateBursts(double thresholdMs)
    {
        var late = new List<(long DueAtMs, double LatenessMs)>();
        for (var i = 0; i < Count; i++)
        {
            if (_latenessMs[i] > thresholdMs)
            {
                late.Add((_firedAtMs[i] - (long)_latenessMs[i], _latenessMs[i]));
            }
        }
        late.Sort();
        var bursts = new List<LateBurst>();
        foreach (var (dueAt, lateness) in late)
        {
            if (bursts.Count > 0 && dueAt - bursts[^1].LastDueAtMs < 1000)
            {
                var last = bursts[^1];
                bursts[^1] = last with { LastDueAtMs = dueAt, Ticks = last.Ticks + 1, MaxLatenessMs = Math.Max(last.MaxLatenessMs, lateness) };
            }
            else
            {
                bursts.Add(new LateBurst(dueAt, dueAt, 1, lateness));
            }
        }
        return bursts;
    }

    public (long First, long Last) FiredAtRangeMs()
    {
        var fired = _firedAtMs.AsSpan(0, Count);
        var (first, last) = (long.MaxValue, long.MinValue);
        foreach (var at in fired)
        {
            first = Math.Min(first, at);
            last = Math.Max(last, at);
        }
        return fired.IsEmpty ? (0, 0) : (first, last);
    }
}

internal sealed record LateBurst(long FirstDueAtMs, long LastDueAtMs, int Ticks, double MaxLatenessMs);
