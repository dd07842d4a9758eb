using System.Diagnostics.Metrics;
using PowerService.Runtime.Diagnostics;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>Listens to the runtime's group-commit batch instruments only (never the per-call ones, which would slow the
/// workload), to show how full the batches ran and how long each commit took.</summary>
internal sealed class StorageBatchProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _batches;
    private long _items;
    private double _commitMs;

    public StorageBatchProbe()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName && instrument.Name.StartsWith("powerservice.storage.batch.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<int>(static (_, size, tags, state) => ((StorageBatchProbe)state!).Batch(size, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, ms, tags, state) => ((StorageBatchProbe)state!).Commit(ms, tags));
        _listener.Start();
    }

    /// <summary>State writes committed since the probe started.</summary>
    public long Writes
    {
        get
        {
            lock (_listener)
            {
                return _items;
            }
        }
    }

    public string Describe()
    {
        lock (_listener)
        {
            return _batches == 0
                ? "no state batches committed"
                : $"{_batches:N0} state batches, {_items / (double)_batches:N0} writes each, {_commitMs / _batches:N1} ms per commit on average";
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Batch(int size, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (IsState(tags))
        {
            lock (_listener)
            {
                _batches++;
                _items += size;
            }
        }
    }

    private void Commit(double ms, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (IsState(tags))
        {
            lock (_listener)
            {
                _commitMs += ms;
            }
        }
    }

    private static bool IsState(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        tags.Length > 0 && tags[0].Value is "state";
}
