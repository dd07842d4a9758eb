using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PowerService.Runtime.Diagnostics;

/// <summary>The runtime's instruments on the "PowerService.Runtime" meter. Recording is guarded by
/// <c>Enabled</c>, so with no listener a call costs a field read and no timestamp is taken.</summary>
internal sealed class RuntimeMetrics : IDisposable
{
    public const string MeterName = "PowerService.Runtime";

    private readonly Meter _meter;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private readonly Counter<long> _callErrors;
    private readonly Counter<long> _deactivations;
    private readonly Counter<long> _remindersFired;
    private readonly Histogram<double> _reminderLateness;
    private readonly Histogram<int> _storageBatchSize;
    private readonly Histogram<double> _storageBatchDuration;
    private readonly Counter<long> _storageErrors;

    public RuntimeMetrics(Func<IEnumerable<Measurement<int>>> activationsByType, Func<int> queueDepth, Func<int> remindersInMemory)
    {
        _meter = new Meter(MeterName);
        _calls = _meter.CreateCounter<long>("powerservice.grain.calls", "{call}", "Grain calls completed, by grain type and method.");
        _callDuration = _meter.CreateHistogram<double>("powerservice.grain.call.duration", "ms", "Grain call latency from send to completion, by grain type and method.");
        _callErrors = _meter.CreateCounter<long>("powerservice.grain.call.errors", "{call}", "Grain calls that ended in an exception (timeouts included).");
        _deactivations = _meter.CreateCounter<long>("powerservice.grain.deactivations", "{activation}", "Deactivations by reason.");
        _remindersFired = _meter.CreateCounter<long>("powerservice.reminders.fired", "{tick}", "Reminder ticks delivered.");
        _reminderLateness = _meter.CreateHistogram<double>("powerservice.reminders.lateness", "ms", "How late a reminder tick fired after its due time.");
        _storageBatchSize = _meter.CreateHistogram<int>("powerservice.storage.batch.size", "{item}", "Items per group-committed storage batch.");
        _storageBatchDuration = _meter.CreateHistogram<double>("powerservice.storage.batch.duration", "ms", "Time to commit one storage batch.");
        _storageErrors = _meter.CreateCounter<long>("powerservice.storage.errors", "{error}", "Storage batches that failed (before or after retries).");
        _meter.CreateObservableGauge("powerservice.activations", activationsByType, "{activation}", "Live activations by grain type.");
        _meter.CreateObservableGauge("powerservice.activation.queue_depth", queueDepth, "{call}", "Calls waiting in activation queues (sampled by the collector).");
        _meter.CreateObservableGauge("powerservice.reminders.in_memory", remindersInMemory, "{reminder}", "Near-term reminders held in memory.");
    }

    public bool CallTimingEnabled => _callDuration.Enabled || _calls.Enabled;

    public void RecordCallIfEnabled(string grainType, Invocation invocation)
    {
        if (!CallTimingEnabled && !_callErrors.Enabled)
        {
            return;
        }
        var tags = new TagList { { "grain.type", grainType }, { "grain.method", invocation.MethodName } };
        _calls.Add(1, tags);
        if (invocation.StartTimestamp != 0)
        {
            _callDuration.Record(Stopwatch.GetElapsedTime(invocation.StartTimestamp).TotalMilliseconds, tags);
        }
        if (invocation.ResultTask.IsFaulted)
        {
            _callErrors.Add(1, tags);
        }
    }

    public void RecordDeactivation(DeactivationReason reason)
    {
        if (_deactivations.Enabled)
        {
            _deactivations.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        }
    }

    public void RecordReminderTick(TimeSpan lateness)
    {
        _remindersFired.Add(1);
        _reminderLateness.Record(lateness.TotalMilliseconds);
    }

    public void RecordStorageBatch(string operation, int size, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("operation", operation);
        _storageBatchSize.Record(size, tag);
        _storageBatchDuration.Record(duration.TotalMilliseconds, tag);
    }

    public void RecordStorageError(string operation) =>
        _storageErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void Dispose() => _meter.Dispose();
}
