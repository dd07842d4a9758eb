using System.Diagnostics;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>The lateness floor of this machine for timed work: the simplest in-process scheduler (one loop that
/// sleeps with Task.Delay until the next due item, then hands it to the thread pool, where its lateness is recorded)
/// run at the reminder benchmark's rate. Reminder lateness is read against it.</summary>
internal sealed class SchedulerBaseline
{
    private readonly double[] _latenessMs;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;

    private SchedulerBaseline(int count)
    {
        _latenessMs = new double[count];
        _pending = count;
    }

    /// <summary>Lateness in ms of each item, ascending.</summary>
    public static async Task<double[]> MeasureAsync(int rate, TimeSpan duration)
    {
        var count = (int)(rate * duration.TotalSeconds);
        var run = new SchedulerBaseline(count);
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        long DueAt(int i) => start + (long)(i * (double)Stopwatch.Frequency / rate);

        for (var next = 0; next < count;)
        {
            var now = Stopwatch.GetTimestamp();
            for (; next < count && DueAt(next) <= now; next++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static item => item.Run.Record(item.Index, item.DueAt), new Item(run, next, DueAt(next)), preferLocal: false);
            }
            if (next < count)
            {
                var wait = (DueAt(next) - now) * TimeSpan.TicksPerSecond / Stopwatch.Frequency;
                await Task.Delay(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, wait)));
            }
        }
        await run._done.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Array.Sort(run._latenessMs);
        return run._latenessMs;
    }

    private void Record(int index, long dueAt)
    {
        _latenessMs[index] = Stopwatch.GetElapsedTime(dueAt).TotalMilliseconds;
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _done.SetResult();
        }
    }

    private readonly record struct Item(SchedulerBaseline Run, int Index, long DueAt);
}
