using System.Diagnostics;

namespace PowerService.LoadTests.Harness;

/// <summary>Closed-loop load: a fixed number of callers, each awaiting one call before making the next. Windows are
/// measured while the callers keep running, so the load can be observed under changing conditions without restarting.</summary>
internal sealed class CallLoad : IAsyncDisposable
{
    // One counter per 128 bytes: callers on different cores must not share a cache line.
    private const int Stride = 16;

    private readonly long[] _completed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;

    /// <summary>Starts the callers. <paramref name="call"/> gets the caller's index and its call number.</summary>
    public CallLoad(int callers, Func<int, long, Task> call)
    {
        _completed = new long[callers * Stride];
        _loops = new Task[callers];
        for (var i = 0; i < callers; i++)
        {
            var caller = i;
            _loops[i] = Task.Run(() => CallerLoop(caller, call));
        }
    }

    /// <summary>Calls per second over a warm-up and then a measured window, with callers started for it alone.</summary>
    public static async Task<double> MeasureAsync(int callers, Func<int, long, Task> call, TimeSpan warmup, TimeSpan measure)
    {
        await using var load = new CallLoad(callers, call);
        await Task.Delay(warmup);
        return await load.MeasureAsync(measure);
    }

    /// <summary>A well-spread target for a caller's n-th call, so callers meet on the same target now and then, as
    /// requests from many users do.</summary>
    public static int Pick(int caller, long n, int targets)
    {
        var h = ((uint)caller * 2654435761u) + ((uint)n * 2246822519u);
        h ^= h >> 15;
        h *= 2654435761u;
        return (int)((h ^ (h >> 13)) % (uint)targets);
    }

    /// <summary>Calls completed per second during the next <paramref name="window"/>.</summary>
    public async Task<double> MeasureAsync(TimeSpan window)
    {
        var before = Completed();
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(window);
        var after = Completed();
        return (after - before) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Calls per second during the next <paramref name="window"/> and this process's CPU time per call in it:
    /// on a shared machine the CPU a call costs moves far less than the rate the process happens to get.</summary>
    public async Task<(double PerSecond, double CpuMicrosecondsPerCall)> MeasureWithCpuAsync(TimeSpan window)
    {
        var before = Completed();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(window);
        var calls = Completed() - before;
        var spent = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        return (calls / Stopwatch.GetElapsedTime(started).TotalSeconds, calls == 0 ? double.NaN : spent.TotalMicroseconds / calls);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }

    private async Task CallerLoop(int caller, Func<int, long, Task> call)
    {
        var slot = caller * Stride;
        var stop = _stop.Token;
        for (long n = 0; !stop.IsCancellationRequested; n++)
        {
            await call(caller, n);
            Volatile.Write(ref _completed[slot], n + 1);
        }
    }

    private long Completed()
    {
        long sum = 0;
        for (var i = 0; i < _completed.Length; i += Stride)
        {
            sum += Volatile.Read(ref _completed[i]);
        }
        return sum;
    }
}

/// <summary>Runs an operation once for each of <c>count</c> indexes with at most <c>concurrency</c> in flight.</summary>
internal static class BoundedLoad
{
    /// <summary>How many operations completed and how long they took; stops early at <paramref name="limit"/>.</summary>
    public static async Task<(int Completed, TimeSpan Elapsed)> RunAsync(int count, int concurrency, Func<int, Task> operation, TimeSpan limit)
    {
        var next = -1;
        var completed = 0;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(limit.TotalSeconds * Stopwatch.Frequency);

        async Task Worker()
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= count)
                {
                    return;
                }
                await operation(index);
                Interlocked.Increment(ref completed);
            }
        }

        var workers = Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(Worker)).ToArray();
        await Task.WhenAll(workers);
        return (completed, Stopwatch.GetElapsedTime(started));
    }
}
