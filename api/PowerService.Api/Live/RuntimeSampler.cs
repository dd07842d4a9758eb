using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using PowerService.Runtime;

namespace PowerService.Api.Live;

/// <summary>Listens to one silo's runtime meter (<c>PowerService.Runtime</c>, scoped to the silo) and turns it into one
/// snapshot a second for the monitor page. It exists only while someone watches: with no listener the runtime records nothing
/// (docs/runtime.md, Metrics), so an unwatched monitor costs the silo nothing.</summary>
internal sealed class RuntimeSampler : IDisposable
{
    private const string MeterName = "PowerService.Runtime";
    private const string NoticesMeterName = "PowerService.Notices";
    private readonly HttpOutcomes _http;
    private HttpCounts _previousHttp;
    private long _noticesEnqueued;
    private long _noticesDelivered;
    private long _noticesFailed;
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _refusals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _activations = new(StringComparer.Ordinal);
    private Dictionary<string, long> _previousCalls = new(StringComparer.Ordinal);
    private Dictionary<string, long> _previousErrors = new(StringComparer.Ordinal);
    private Dictionary<string, long> _previousRefusals = new(StringComparer.Ordinal);
    private readonly LatencyHistogram _latencies = new();
    // Per grain type and method; the key's strings are the tags' own, so a sampled call allocates nothing once its method is known.
    private readonly ConcurrentDictionary<(string Type, string Method), LatencyHistogram> _methodLatencies = new();
    private readonly LatencyHistogram _lateness = new();
    private long _storageBatches;
    private long _storageItems;
    private double _storageMs;
    private long _storageErrors;
    private long _remindersFired;
    private long _queueDepth;
    private long _remindersInMemory;
    private long _lastTimestamp = Stopwatch.GetTimestamp();
    private TimeSpan _lastCpu = Process.GetCurrentProcess().TotalProcessorTime;

    public RuntimeSampler(Silo silo, HttpOutcomes http)
    {
        _http = http;
        _previousHttp = http.Read();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NoticesMeterName && ReferenceEquals(instrument.Meter.Scope, silo.Services))
            {
                listener.EnableMeasurementEvents(instrument);
            }
            else if (instrument.Meter.Name == MeterName && ReferenceEquals(instrument.Meter.Scope, silo))
            {
                // The two latency histograms record without the lock; everything else is rare enough to take it.
                listener.EnableMeasurementEvents(instrument, instrument.Name switch
                {
                    "powerservice.grain.call.duration" => _latencies,
                    "powerservice.reminders.lateness" => _lateness,
                    _ => null,
                });
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<int>(OnInt);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    /// <summary>Reads the observable instruments and returns what happened since the previous snapshot.</summary>
    public RuntimeSnapshot Take()
    {
        lock (_lock)
        {
            _calls.Clear();
            _errors.Clear();
            _refusals.Clear();
            _activations.Clear();
        }
        _listener.RecordObservableInstruments();
        var now = Stopwatch.GetTimestamp();
        var seconds = Math.Max(Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds, 0.001);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var latency = _latencies.TakePercentiles(0.5, 0.99);
        var lateness = _lateness.TakePercentiles(0.99);
        var methodLatency = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var ((type, method), histogram) in _methodLatencies)
        {
            methodLatency[$"{type}.{method}"] = histogram.TakePercentiles(0.5, 0.99);
        }
        lock (_lock)
        {
            var methods = _calls.Keys.Union(_previousCalls.Keys, StringComparer.Ordinal)
                .Select(method => new MethodRate(
                    method,
                    PerSecond(_calls, _previousCalls, method, seconds),
                    PerSecond(_errors, _previousErrors, method, seconds),
                    PerSecond(_refusals, _previousRefusals, method, seconds),
                    Sampled(methodLatency.GetValueOrDefault(method), 0),
                    Sampled(methodLatency.GetValueOrDefault(method), 1)))
                .Where(m => m.CallsPerSecond > 0 || m.ErrorsPerSecond > 0 || m.RefusalsPerSecond > 0)
                .OrderByDescending(m => m.CallsPerSecond)
                .ToList();
            var snapshot = new RuntimeSnapshot(
                DateTimeOffset.UtcNow,
                methods.Sum(m => m.CallsPerSecond),
                methods.Sum(m => m.ErrorsPerSecond),
                methods.Sum(m => m.RefusalsPerSecond),
                methods,
                latency[0],
                latency[1],
                new Dictionary<string, int>(_activations),
                _activations.Values.Sum(),
                _queueDepth,
                _remindersInMemory,
                _remindersFired / seconds,
                lateness[0],
                _storageBatches / seconds,
                _storageBatches == 0 ? 0 : (double)_storageItems / _storageBatches,
                _storageBatches == 0 ? 0 : _storageMs / _storageBatches,
                _storageErrors,
                (cpu - _lastCpu).TotalSeconds / seconds / Environment.ProcessorCount * 100,
                Environment.WorkingSet,
                GC.GetTotalMemory(false),
                LiveHeapAtLastFullCollection(),
                Rates(_http.Read(), _previousHttp, seconds),
                new NoticeRates(_noticesEnqueued / seconds, _noticesDelivered / seconds, _noticesFailed / seconds));
            _previousHttp = _http.Read();
            _noticesEnqueued = _noticesDelivered = _noticesFailed = 0;
            _previousCalls = new Dictionary<string, long>(_calls, StringComparer.Ordinal);
            _previousErrors = new Dictionary<string, long>(_errors, StringComparer.Ordinal);
            _previousRefusals = new Dictionary<string, long>(_refusals, StringComparer.Ordinal);
            _storageBatches = _storageItems = _storageErrors = _remindersFired = 0;
            _storageMs = 0;
            _lastTimestamp = now;
            _lastCpu = cpu;
            return snapshot;
        }
    }

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        lock (_lock)
        {
            switch (instrument.Name)
            {
                case "powerservice.grain.calls":
                    _calls[Method(tags)] = _calls.GetValueOrDefault(Method(tags)) + value;
                    break;
                case "powerservice.grain.call.errors":
                    _errors[Method(tags)] = _errors.GetValueOrDefault(Method(tags)) + value;
                    break;
                case "powerservice.grain.call.refusals":
                    _refusals[Method(tags)] = _refusals.GetValueOrDefault(Method(tags)) + value;
                    break;
                case "powerservice.reminders.fired":
                    _remindersFired += value;
                    break;
                case "powerservice.storage.errors":
                    _storageErrors += value;
                    break;
                case "powerservice.notices.enqueued":
                    _noticesEnqueued += value;
                    break;
                case "powerservice.notices.delivered":
                    _noticesDelivered += value;
                    break;
                case "powerservice.notices.failed" or "powerservice.notices.unrouted":
                    _noticesFailed += value;
                    break;
            }
        }
    }

    private void OnInt(Instrument instrument, int value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        lock (_lock)
        {
            switch (instrument.Name)
            {
                case "powerservice.activations":
                    _activations[Tag(tags, "grain.type")] = value;
                    break;
                case "powerservice.activation.queue_depth":
                    _queueDepth = value;
                    break;
                case "powerservice.reminders.in_memory":
                    _remindersInMemory = value;
                    break;
                case "powerservice.storage.batch.size":
                    _storageBatches++;
                    _storageItems += value;
                    break;
            }
        }
    }

    private static HttpRates Rates(HttpCounts now, HttpCounts before, double seconds) => new(
        (now.Requests - before.Requests) / seconds, (now.Rejected - before.Rejected) / seconds, (now.Unauthorized - before.Unauthorized) / seconds,
        (now.Throttled - before.Throttled) / seconds, (now.ServerErrors - before.ServerErrors) / seconds);

    /// <summary>A method's count since the previous snapshot, per second (counters only grow; a restarted one reads 0).</summary>
    private static double PerSecond(Dictionary<string, long> now, Dictionary<string, long> before, string method, double seconds) =>
        Math.Max(0, now.GetValueOrDefault(method) - before.GetValueOrDefault(method)) / seconds;

    /// <summary>A percentile of a method's sampled calls; null when none of its calls this second was timed (one in
    /// <see cref="SiloOptions.CallLatencySampling"/> is).</summary>
    private static double? Sampled(double[]? percentiles, int index) => percentiles is { } p && p[index] > 0 ? p[index] : null;

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (state is LatencyHistogram histogram)
        {
            histogram.Record(value);
            if (ReferenceEquals(histogram, _latencies))
            {
                var key = (Tag(tags, "grain.type"), Tag(tags, "grain.method"));
                if (!_methodLatencies.TryGetValue(key, out var method))
                {
                    method = _methodLatencies.GetOrAdd(key, static _ => new LatencyHistogram());
                }
                method.Record(value);
            }
            return;
        }
        if (instrument.Name == "powerservice.storage.batch.duration")
        {
            lock (_lock)
            {
                _storageMs += value;
            }
        }
    }

    private static string Method(ReadOnlySpan<KeyValuePair<string, object?>> tags) => $"{Tag(tags, "grain.type")}.{Tag(tags, "grain.method")}";

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

    public void Dispose() => _listener.Dispose();

    /// <summary>What the heap held after the last full collection (null before the first): the managed heap figure
    /// counts garbage not yet collected too, and on an idle silo (server GC collects rarely) it climbed 10 MB a minute
    /// like a leak while the live data stayed at 45 MB.</summary>
    private static long? LiveHeapAtLastFullCollection()
    {
        var full = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var last = full.Index >= background.Index ? full : background;
        return last.Index == 0 ? null : last.HeapSizeBytes - last.FragmentedBytes;
    }
}

/// <summary>One second of the silo, as the monitor page charts it.</summary>
public sealed record RuntimeSnapshot(
    DateTimeOffset At,
    double CallsPerSecond,
    double ErrorsPerSecond,
    double RefusalsPerSecond,
    IReadOnlyList<MethodRate> Methods,
    double CallLatencyP50Ms,
    double CallLatencyP99Ms,
    IReadOnlyDictionary<string, int> ActivationsByType,
    int Activations,
    long QueueDepth,
    long RemindersInMemory,
    double RemindersFiredPerSecond,
    double ReminderLatenessP99Ms,
    double StorageBatchesPerSecond,
    double StorageItemsPerBatch,
    double StorageBatchMs,
    long StorageErrors,
    double CpuPercent,
    long WorkingSetBytes,
    long ManagedHeapBytes,
    long? LiveHeapBytes,
    HttpRates Http,
    NoticeRates Notices);

/// <summary>The API's answers per second, by kind (<see cref="HttpCounts"/>).</summary>
public sealed record HttpRates(double RequestsPerSecond, double RejectedPerSecond, double UnauthorizedPerSecond, double ThrottledPerSecond, double ServerErrorsPerSecond);

/// <summary>Customer notices per second: added to the outbox, accepted by a channel, failed or without an adapter (retried
/// after the lease).</summary>
public sealed record NoticeRates(double EnqueuedPerSecond, double DeliveredPerSecond, double FailedPerSecond);

/// <summary>One grain method's second: calls, errors and refusals (exact; a refusal is a request the grain turned down,
/// such as an illegal transition, not a fault), and the latency of its timed calls (a sample; null when none was timed).</summary>
public sealed record MethodRate(string Method, double CallsPerSecond, double ErrorsPerSecond, double RefusalsPerSecond, double? LatencyP50Ms, double? LatencyP99Ms);
