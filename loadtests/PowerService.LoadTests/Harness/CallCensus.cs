using System.Diagnostics.Metrics;
using PowerService.Runtime.Diagnostics;

namespace PowerService.LoadTests.Harness;

/// <summary>What a phase of a benchmark cost the silo, from the runtime's own instruments: grain calls by type and
/// method (the difference of the cumulative counters at the start and the end) and storage batches and items by
/// operation (measured while the census runs). Tells where a figure's time goes without a profiler.</summary>
internal sealed class CallCensus : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Batches, long Items)> _storage = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _commitMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _longestMs = new(StringComparer.Ordinal);
    private readonly System.Diagnostics.Stopwatch _elapsed = System.Diagnostics.Stopwatch.StartNew();
    private Dictionary<string, long>? _start;
    private readonly int[] _collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private readonly TimeSpan _paused = GC.GetTotalPauseDuration();
    private readonly List<GCMemoryInfo> _gcs = [];
    private long _pendingSum;
    private long _pendingMax;
    private int _pendingSamples;
    private readonly CancellationTokenSource _stopSampling = new();

    public CallCensus()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName && instrument.Name is "powerservice.grain.calls" or "powerservice.storage.batch.size" or "powerservice.storage.batch.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = $"{Tag(tags, "grain.type")}.{Tag(tags, "grain.method")}";
            lock (_lock)
            {
                _calls[key] = value;
            }
        });
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            var key = Tag(tags, "operation");
            lock (_lock)
            {
                var (batches, items) = _storage.GetValueOrDefault(key);
                _storage[key] = (batches + 1, items + value);
            }
        });
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var key = Tag(tags, "operation");
            lock (_lock)
            {
                _commitMs[key] = _commitMs.GetValueOrDefault(key) + value;
                _longestMs[key] = Math.Max(_longestMs.GetValueOrDefault(key), value);
            }
        });
        _listener.Start();
        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            _start = new Dictionary<string, long>(_calls, StringComparer.Ordinal);
            _storage.Clear();
            _commitMs.Clear();
            _longestMs.Clear();
        }
        _elapsed.Restart();
        _ = Task.Run(SampleCollectionsAsync);
    }

    // Each collection's own figures (pause, generation, bytes promoted), seen by polling for a new index.
    private async Task SampleCollectionsAsync()
    {
        var last = GC.GetGCMemoryInfo(GCKind.Any).Index;
        while (!_stopSampling.IsCancellationRequested)
        {
            var pending = ThreadPool.PendingWorkItemCount;
            _pendingSum += pending;
            _pendingMax = Math.Max(_pendingMax, pending);
            _pendingSamples++;
            var info = GC.GetGCMemoryInfo(GCKind.Any);
            if (info.Index != last)
            {
                last = info.Index;
                lock (_lock)
                {
                    _gcs.Add(info);
                }
            }
            await Task.Delay(5);
        }
    }

    /// <summary>The calls made since the census started, most first, and the storage batches.</summary>
    public void Print(int top = 15)
    {
        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            var calls = _calls.Select(c => (c.Key, Count: c.Value - _start!.GetValueOrDefault(c.Key))).Where(c => c.Count > 0).OrderByDescending(c => c.Count).ToList();
            Report.Line($"grain calls in the phase: {calls.Sum(c => c.Count):N0}; most: " + string.Join(", ", calls.Take(top).Select(c => $"{c.Key} {c.Count:N0}")));
            Report.Line("storage batches (items): " + string.Join(", ", _storage.OrderByDescending(s => s.Value.Items).Select(s => $"{s.Key} {s.Value.Batches:N0} ({s.Value.Items:N0})")));
            // Committing time over the phase's wall time: near 1 × the writer loops means the store is the bottleneck.
            var wall = _elapsed.Elapsed.TotalMilliseconds;
            Report.Line("storage time committing / wall time: " + string.Join(", ", _commitMs.OrderByDescending(c => c.Value).Select(c =>
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Key} {c.Value / wall:0.00} ({c.Value / Math.Max(1, _storage.GetValueOrDefault(c.Key).Batches):0.0} ms a batch, longest {_longestMs[c.Key]:0} ms)"))));
            // Collections by generation (gen1 includes gen2, gen0 both) and the time the process stood still for them.
            var paused = (GC.GetTotalPauseDuration() - _paused).TotalMilliseconds;
            Report.Line(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"garbage collections: gen0 {GC.CollectionCount(0) - _collections[0]:N0}, gen1 {GC.CollectionCount(1) - _collections[1]:N0}, gen2 {GC.CollectionCount(2) - _collections[2]:N0}; paused {paused:N0} ms ({paused / wall:P1} of the phase), heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:N0} MB"));
            Report.Line(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"thread pool work items waiting (sampled every 5 ms): mean {(double)_pendingSum / Math.Max(1, _pendingSamples):N0}, most {_pendingMax:N0}"));
            Report.Line("collections seen (generation, pause ms, MB promoted): " + string.Join(", ", _gcs.Select(g => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{g.Generation}/{g.PauseDurations[0].TotalMilliseconds:0}/{g.PromotedBytes / 1048576.0:0}"))));
        }
    }

    public void Dispose()
    {
        _stopSampling.Cancel();
        _listener.Dispose();
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value?.ToString() ?? "";
            }
        }
        return "";
    }
}
