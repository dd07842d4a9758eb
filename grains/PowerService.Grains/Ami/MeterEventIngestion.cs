using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Outages;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Ami;

/// <summary>The AMI ingestion path: head-end batches go into one bounded queue; a pump takes whatever has gathered
/// (up to <see cref="IngestionOptions.MaxBatch"/> — the busier the storm, the bigger the batch), resolves each meter's
/// transformer area (from the in-memory <see cref="MeterDirectory"/>, the meters it does not know with one catalog
/// read), and hands each area its events in one grain call. A submission completes
/// when its events are applied, so an accepted batch is never silently dropped; a full queue refuses a batch whole with
/// <see cref="ServiceBusyException"/>. Events are idempotent per (meter, event id), so a refused or failed batch is
/// simply sent again. An applied batch is also appended to the <see cref="MeterEventLog"/> before it is acknowledged
/// (areas store their meters' flags behind), and the log is replayed when the silo starts: an acknowledged event
/// survives a crash.
/// Up to four batches are applying at once; their area calls queue for <see cref="IngestionOptions.AreaCallsInFlight"/>
/// workers, each making one call at a time, so interactive calls are not queued behind a storm (and a call costs no
/// semaphore wait or task of its own on the way).
/// An area may so receive two batches' events in either order, which changes nothing: each meter applies only events
/// newer than the newest it applied.</summary>
public sealed partial class MeterEventIngestion(IngestionOptions options, MeterDirectory directory, ILogger<MeterEventIngestion> logger) : ISiloService
{
    private const int MaxIdLength = 128;

    /// <summary>Batches routed and applying at once: a batch waiting for one slow area (one being activated, which reads
    /// its record and profile) does not hold up the next ones.</summary>
    private const int BatchesInFlight = 4;

    private readonly Channel<AreaCall> _areaCalls = Channel.CreateUnbounded<AreaCall>();
    private readonly MeterEventLog _log = new(options, logger);
    private readonly CancellationTokenSource _stop = new();
    private Task _trimming = Task.CompletedTask;
    private Task[] _areaWorkers = [];

    // One reference per area, kept: a reference remembers the activation it last reached, so a storm's calls to an
    // area skip the silo's directory lookup (and two allocations) after the first.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IAreaPowerGrain> _areas = new(StringComparer.Ordinal);
    private readonly Channel<Submission> _queue = Channel.CreateUnbounded<Submission>(new UnboundedChannelOptions { SingleReader = true });
    private Silo? _silo;
    private Task? _pump;
    private long _queued;
    private long _ingested;
    private long _unknown;
    private long _refused;
    private double _eventsPerSecond;

    /// <summary>Events a pump batch must hold for its time to measure the rate: a one-event batch's time is the store's
    /// round trip, not the pump's rate (right after a start it made Retry-After 30 s for a queue that drained in 0.2 s).</summary>
    private const int RateSampleAtLeast = 100;

    /// <summary>Validates the whole batch (nothing is taken when one event is bad), queues it, and completes when
    /// every event was applied by its transformer area.</summary>
    public Task<IngestionReceipt> SubmitAsync(IReadOnlyList<MeterEvent> events)
    {
        Validate(events);
        if (_silo is not { IsRunning: true } || _pump is null)
        {
            throw new ServiceBusyException("Meter event ingestion is not running.", TimeSpan.FromSeconds(5));
        }
        if (events.Count == 0)
        {
            return Task.FromResult(new IngestionReceipt(0, []));
        }
        var queued = Interlocked.Add(ref _queued, events.Count);
        if (queued > options.QueueCapacity && queued != events.Count)
        {
            Interlocked.Add(ref _queued, -events.Count);
            Interlocked.Increment(ref _refused);
            throw new ServiceBusyException(
                $"The meter event queue is full ({queued - events.Count} events waiting); nothing of this batch was taken.", RetryAfter(queued));
        }
        var submission = new Submission(events, new TaskCompletionSource<IngestionReceipt>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(submission))
        {
            Interlocked.Add(ref _queued, -events.Count);
            throw new ServiceBusyException("Meter event ingestion is stopping.", TimeSpan.FromSeconds(5));
        }
        return submission.Done.Task;
    }

    public IngestionStatistics GetStatistics() => new(
        Interlocked.Read(ref _queued), Interlocked.Read(ref _ingested), Interlocked.Read(ref _unknown), Interlocked.Read(ref _refused), Volatile.Read(ref _eventsPerSecond));

    /// <summary>Replays the meter event log (what was acknowledged before a crash, and what the areas may not have
    /// stored), then takes batches.</summary>
    public async Task StartAsync(Silo silo, CancellationToken cancellationToken)
    {
        _silo = silo;
        _areaWorkers = [.. Enumerable.Range(0, options.AreaCallsInFlight).Select(_ => Task.Run(AreaWorkerAsync, CancellationToken.None))];
        await ReplayLogAsync(cancellationToken);
        _trimming = Task.Run(() => _log.KeepTrimmedAsync(silo, _stop.Token), CancellationToken.None);
        _pump = Task.Run(PumpAsync, CancellationToken.None);
    }

    /// <summary>Applies every event still in the log again (what the silo's start does; a benchmark times it) and
    /// returns how many.</summary>
    internal async Task<int> ReplayLogAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var replayed = 0;
        await foreach (var events in _log.ReadAsync(_silo!.Storage, cancellationToken))
        {
            var submission = new Submission(events, new TaskCompletionSource<IngestionReceipt>(TaskCreationOptions.RunContinuationsAsynchronously));
            Interlocked.Add(ref _queued, events.Count);
            await ApplyAsync(await RouteAsync([submission]), events.Count, Stopwatch.GetTimestamp(), logged: true);
            // A record that fails now (the store went away) fails the start: nothing acknowledged is skipped.
            await submission.Done.Task;
            replayed += events.Count;
        }
        if (replayed > 0)
        {
            LogReplayed(logger, replayed, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return replayed;
    }

    /// <summary>Stops taking batches and applies every one already accepted before the silo deactivates its grains.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (_pump is not null)
        {
            await _pump;
        }
        _areaCalls.Writer.TryComplete();
        await Task.WhenAll(_areaWorkers);
        await _stop.CancelAsync();
        await _trimming;
        _stop.Dispose();
    }

    private void Validate(IReadOnlyList<MeterEvent> events)
    {
        if (events is null)
        {
            throw new InvalidFieldException("events", "The events are required.");
        }
        if (events.Count > options.MaxSubmission)
        {
            throw new InvalidFieldException("events", $"At most {options.MaxSubmission} events in one batch.");
        }
        var now = (_silo?.TimeProvider ?? TimeProvider.System).GetUtcNow();
        var (earliest, latest) = (now - options.PastTolerance, now + options.FutureTolerance);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new InvalidFieldException($"events[{i}]", "An event is required.");
            if (string.IsNullOrWhiteSpace(e.MeterId))
            {
                throw new InvalidFieldException($"events[{i}].meterId", "The meter id is required.");
            }
            // A meter id is an id as the topology import takes it: "MT 0001" or one with a zero-width space was answered
            // as an unknown meter, the head-end's mistake told as ours.
            if (PlainIds.Problem(e.MeterId) is { } problem)
            {
                throw new InvalidFieldException($"events[{i}].meterId", $"The meter id {problem}.");
            }
            if (string.IsNullOrWhiteSpace(e.EventId) || e.EventId.Length > MaxIdLength)
            {
                throw new InvalidFieldException($"events[{i}].eventId", $"The event id is required (at most {MaxIdLength} characters).");
            }
            if (PlainText.IndexOfFormat(e.EventId) is var invisible and >= 0)
            {
                throw new InvalidFieldException($"events[{i}].eventId", $"The event id {PlainText.DescribeFormat(e.EventId, invisible)}.");
            }
            if (!Enum.IsDefined(e.Type))
            {
                throw new InvalidFieldException($"events[{i}].type", "The type is LastGasp, PowerRestored or Reading.");
            }
            if (e.At > latest || e.At < earliest)
            {
                throw new InvalidFieldException($"events[{i}].at",
                    $"The time of the event lies after {latest:O} (the silo's clock plus {options.FutureTolerance.TotalMinutes:0} minutes) or before {earliest:O} "
                    + $"({options.PastTolerance.TotalDays:0.#} days before it): the head-end's clock is wrong.");
            }
            if (e.Type == MeterEventType.Reading && e.Kwh is not (>= 0 and < 1_000_000))
            {
                throw new InvalidFieldException($"events[{i}].kwh", "A reading carries the interval's energy in kWh, from 0 to under 1,000,000.");
            }
            if (e.Voltage is < 0 or > 100_000 || (e.Voltage is { } v && double.IsNaN(v)))
            {
                throw new InvalidFieldException($"events[{i}].voltage", "The voltage is between 0 and 100,000 V.");
            }
            if (e.LoadKw is < 0 or > 1_000_000 || (e.LoadKw is { } l && double.IsNaN(l)))
            {
                throw new InvalidFieldException($"events[{i}].loadKw", "The load is between 0 and 1,000,000 kW.");
            }
        }
    }

    private async Task PumpAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Submission>();
        var inFlight = new List<Task>(BatchesInFlight);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var events = 0;
            while (events < options.MaxBatch && reader.TryRead(out var submission))
            {
                batch.Add(submission);
                events += submission.Events.Count;
            }
            var started = Stopwatch.GetTimestamp();
            var routed = await RouteAsync(batch).ConfigureAwait(false);
            inFlight.Add(ApplyAsync(routed, events, started, logged: false));
            batch = [];
            if (inFlight.Count == BatchesInFlight)
            {
                inFlight.Remove(await Task.WhenAny(inFlight).ConfigureAwait(false));
            }
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    /// <summary>Groups the batch's events by transformer area as it looks each meter up once: the directory answers for
    /// the meters it knows, one catalog read for the batch's other distinct meters; a meter neither knows is counted
    /// against its submission. A store failure fails the batch's submissions.</summary>
    private async Task<RoutedBatch> RouteAsync(List<Submission> batch)
    {
        try
        {
            var byArea = new Dictionary<string, List<MeterEvent>>(StringComparer.Ordinal);
            List<(Submission Submission, MeterEvent Event)>? misses = null;
            foreach (var submission in batch)
            {
                foreach (var e in submission.Events)
                {
                    if (directory.TryGetArea(e.MeterId, out var area))
                    {
                        AddTo(byArea, area, e);
                    }
                    else
                    {
                        (misses ??= []).Add((submission, e));
                    }
                }
            }
            if (misses is not null)
            {
                var keys = misses.Select(m => m.Event.MeterId).Distinct(StringComparer.Ordinal).ToList();
                var entries = await _silo!.Storage.ReadCatalogAsync(TopologyKinds.Meter, keys).ConfigureAwait(false);
                var stored = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < keys.Count; i++)
                {
                    if (entries[i]?.ParentKey is { } area)
                    {
                        stored[keys[i]] = area;
                    }
                }
                foreach (var (submission, e) in misses)
                {
                    if (stored.TryGetValue(e.MeterId, out var area))
                    {
                        AddTo(byArea, area, e);
                    }
                    else
                    {
                        submission.Unknown(e.MeterId);
                    }
                }
            }
            return new RoutedBatch(batch, byArea, null);
        }
        catch (Exception error)
        {
            return new RoutedBatch(batch, null, error);
        }
    }

    private static void AddTo(Dictionary<string, List<MeterEvent>> byArea, string area, MeterEvent e)
    {
        if (!byArea.TryGetValue(area, out var list))
        {
            byArea[area] = list = [];
        }
        list.Add(e);
    }

    /// <summary>Hands each area its events and, unless they come from the log (<paramref name="logged"/>), appends
    /// them to it meanwhile; the batch's submitters hear back when both are done.</summary>
    private async Task ApplyAsync(RoutedBatch routed, int events, long started, bool logged)
    {
        var error = routed.Error;
        if (routed.ByArea is { Count: > 0 } byArea)
        {
            var logging = logged ? Task.CompletedTask : _log.AppendAsync(_silo!.Storage, byArea.Values);
            var applying = new AreaCalls(byArea.Count);
            foreach (var (area, areaEvents) in byArea)
            {
                _areaCalls.Writer.TryWrite(new AreaCall(area, areaEvents, applying));
            }
            error = await applying.Done.ConfigureAwait(false);
            try
            {
                await logging.ConfigureAwait(false);
            }
            catch (Exception logFailed)
            {
                error ??= logFailed;
            }
        }
        Interlocked.Add(ref _queued, -events);
        if (error is not null)
        {
            LogBatchFailed(logger, error, events);
            // Why is in the silo's log: a store's message names its host and database, which are not the head-end's business.
            var busy = error as ServiceBusyException ?? new ServiceBusyException(
                error is StorageUnavailableException
                    ? "The store did not answer, so the batch was not applied; events are idempotent, send it again."
                    : "The batch could not be applied (the silo's log says why); events are idempotent, send it again.",
                TimeSpan.FromSeconds(2));
            foreach (var submission in routed.Submissions)
            {
                submission.Done.TrySetException(busy);
            }
            return;
        }
        var unknown = routed.Submissions.Sum(s => s.UnknownEvents);
        Interlocked.Add(ref _ingested, events - unknown);
        Interlocked.Add(ref _unknown, unknown);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (events >= RateSampleAtLeast && seconds > 0)
        {
            Volatile.Write(ref _eventsPerSecond, events / seconds);
        }
        foreach (var submission in routed.Submissions)
        {
            submission.Done.TrySetResult(submission.Receipt());
        }
    }

    /// <summary>One of the <see cref="IngestionOptions.AreaCallsInFlight"/> workers: makes the queued area calls one at a
    /// time, in the order the batches queued them, and tells each call's batch how it went.</summary>
    private async Task AreaWorkerAsync()
    {
        var reader = _areaCalls.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var call))
            {
                Exception? failure = null;
                try
                {
                    var grain = _areas.GetOrAdd(call.Area, static (key, silo) => silo.GetGrain<IAreaPowerGrain>(key), _silo!);
                    await grain.ReportMeterEvents(call.Events).ConfigureAwait(false);
                }
                catch (Exception error)
                {
                    failure = error;
                }
                call.Batch.Completed(failure);
            }
        }
    }

    /// <summary>How long the queue ahead takes to drain at the last measured rate (1 to 30 seconds; 1 before a batch
    /// large enough to measure it).</summary>
    private TimeSpan RetryAfter(long queued)
    {
        var rate = Volatile.Read(ref _eventsPerSecond);
        var seconds = rate > 0 ? queued / rate : 1;
        return TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(seconds), 1, 30));
    }

    /// <summary>One head-end batch on its way: its events, its caller's answer, and the meters of it the topology does
    /// not know (counted as routing finds them; most batches have none and allocate nothing for it).</summary>
    private sealed class Submission(IReadOnlyList<MeterEvent> events, TaskCompletionSource<IngestionReceipt> done)
    {
        private List<string>? _unknownMeters;
        private HashSet<string>? _unknownSeen;

        public IReadOnlyList<MeterEvent> Events => events;
        public TaskCompletionSource<IngestionReceipt> Done => done;
        public int UnknownEvents { get; private set; }

        public void Unknown(string meterId)
        {
            UnknownEvents++;
            if ((_unknownSeen ??= new HashSet<string>(StringComparer.Ordinal)).Add(meterId) && _unknownSeen.Count <= IngestionReceipt.MaxListed)
            {
                (_unknownMeters ??= []).Add(meterId);
            }
        }

        public IngestionReceipt Receipt() => new(events.Count - UnknownEvents, _unknownMeters ?? []);
    }

    private readonly record struct AreaCall(string Area, List<MeterEvent> Events, AreaCalls Batch);

    /// <summary>A batch's area calls still out; done (with the first failure, if any) when the last one completes.</summary>
    private sealed class AreaCalls(int count)
    {
        private readonly TaskCompletionSource<Exception?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = count;
        private Exception? _failure;

        public Task<Exception?> Done => _done.Task;

        public void Completed(Exception? failure)
        {
            if (failure is not null)
            {
                Interlocked.CompareExchange(ref _failure, failure, null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _done.TrySetResult(Volatile.Read(ref _failure));
            }
        }
    }

    private sealed record RoutedBatch(List<Submission> Submissions, Dictionary<string, List<MeterEvent>>? ByArea, Exception? Error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed {Events} meter events of the log in {Milliseconds:0} ms")]
    private static partial void LogReplayed(ILogger logger, int events, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Events} meter events failed; its submitters are told to send it again")]
    private static partial void LogBatchFailed(ILogger logger, Exception error, int events);
}

/// <summary>What was taken of a batch: events of known meters (applied), and meters the topology does not know (their
/// events were not applied; up to <see cref="MaxListed"/> listed).</summary>
public sealed record IngestionReceipt(int Accepted, IReadOnlyList<string> UnknownMeters)
{
    public const int MaxListed = 100;
}

public sealed record IngestionStatistics(long Queued, long Ingested, long UnknownMeters, long RefusedBatches, double LastBatchEventsPerSecond);
