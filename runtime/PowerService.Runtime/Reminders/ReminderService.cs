using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PowerService.Runtime.Storage;

namespace PowerService.Runtime.Reminders;

/// <summary>Durable reminders that scale to millions: every reminder lives in the store; only those due before the
/// watermark (now + horizon) are held in memory, in a priority queue. The watermark moves forward by loading the next
/// window from the store, so a reminder months away costs no memory. On start the first load reaches back to the
/// beginning of time, which fires every reminder that fell due while the silo was down, once.
/// A tick is a turn of the grain that delivers <see cref="IRemindable.ReceiveReminder"/> and then, in the same turn,
/// persists the next due time (or deletes a one-shot reminder); a reminder the grain changed during its own tick is
/// left as the grain set it. So each due time fires once, across deactivation and restart.</summary>
internal sealed partial class ReminderService
{
    // Ticks delivered but not yet finished; beyond this the firing loop waits (a catch-up after a long outage must not
    // activate a million grains at once).
    private const int MaxTicksInFlight = 20_000;

    /// <summary>How soon a one-shot tick its grain failed to handle is delivered again: soon enough that a store back after
    /// a short outage sees the moment handled within seconds, not so often that a grain failing for good floods the log.</summary>
    internal const long FailedTickRetryMs = 5_000;

    private readonly Silo _silo;
    private readonly IStorageProvider _storage;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly StorageRetryPolicy _retry;
    private readonly long _horizonMs;
    private readonly long _loadStepMs;
    private readonly int[] _partitions;
    private readonly GroupCommitQueue<ReminderRecord, bool> _upserts;
    private readonly GroupCommitQueue<ReminderKey, bool> _deletes;
    private readonly Lock _lock = new();
    private readonly Dictionary<ReminderKey, ReminderRecord> _nearTerm = [];
    private readonly PriorityQueue<ReminderRecord, long> _due = new();
    /// <summary>The delivery in flight per reminder, the newest when two are (a tick whose grain re-registered the
    /// reminder due at once). Each delivery keeps its own touched flag, so a newer delivery never erases an older
    /// one's, and the older one's advancement never deletes what the newer one's grain registered.</summary>
    private readonly Dictionary<ReminderKey, Firing> _firing = [];
    private readonly ConcurrentDictionary<ReminderTick, byte> _inFlight = new();
    private readonly SemaphoreSlim _tickSlots = new(MaxTicksInFlight, MaxTicksInFlight);
    private readonly CancellationTokenSource _stop = new();
    private HashSet<ReminderKey>? _changedDuringLoad;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _watermarkMs = long.MinValue;
    private Task? _loop;
    private Task _loading = Task.CompletedTask;

    public ReminderService(Silo silo, IStorageProvider storage, SiloOptions options, StorageRetryPolicy retry, ILogger<ReminderService> logger)
    {
        _silo = silo;
        _storage = storage;
        _logger = logger;
        _time = options.TimeProvider;
        _retry = retry;
        _horizonMs = (long)options.ReminderHorizon.TotalMilliseconds;
        _loadStepMs = Math.Max(1000, _horizonMs / 15);
        _partitions = Enumerable.Range(0, options.PartitionCount).ToArray();
        _upserts = new GroupCommitQueue<ReminderRecord, bool>("reminders", UpsertBatch, 1024, 1, retry, silo.Metrics, logger);
        _deletes = new GroupCommitQueue<ReminderKey, bool>("reminders", DeleteBatch, 1024, 1, retry, silo.Metrics, logger);
    }

    public int InMemoryCount => _nearTerm.Count;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A moment as the reminders store it: whole milliseconds, rounded up, so a reminder never reaches its grain
    /// before the moment the grain asked for (truncated, it came up to a millisecond early, and a grain that found its
    /// moment not yet due waited for a reminder the runtime had already spent).</summary>
    internal static long DueMs(DateTimeOffset at)
    {
        var ms = at.ToUnixTimeMilliseconds();
        return DateTimeOffset.FromUnixTimeMilliseconds(ms) < at ? ms + 1 : ms;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadWindowAsync(NowMs + _horizonMs, cancellationToken);
        _loop = Task.Run(() => FireLoop(_stop.Token), CancellationToken.None);
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        await _loading;
        await Task.WhenAll(_inFlight.Keys.Select(tick => tick.ResultTask.ContinueWith(static _ => { }, TaskScheduler.Default)));
    }

    public Task DrainAsync() => Task.WhenAll(_upserts.DrainAsync(), _deletes.DrainAsync());

    public Task RegisterAsync(Grain grain, string name, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, TimeSpan.Zero);
        return RegisterAtAsync(grain, name, NowMs + (long)dueTime.TotalMilliseconds, period);
    }

    /// <summary>Registers a reminder due at <paramref name="dueAt"/> (stored as <see cref="DueMs"/>); one already past
    /// fires at once.</summary>
    public Task RegisterAtAsync(Grain grain, string name, DateTimeOffset dueAt, TimeSpan period) =>
        RegisterAtAsync(grain, name, DueMs(dueAt), period);

    /// <summary>Registers a reminder due at an absolute moment (Unix milliseconds); one already past fires at once.</summary>
    public async Task RegisterAtAsync(Grain grain, string name, long dueAtMs, TimeSpan period)
    {
        var record = Plan(grain.GrainId, grain.GetType(), name, dueAtMs, period);
        await _upserts.Enqueue(record);
        Stored(record);
    }

    public async Task UnregisterAsync(GrainId grain, string name)
    {
        var key = new ReminderKey(grain, name);
        await _deletes.Enqueue(key);
        Removed(key);
    }

    /// <summary>The stored form of a change a grain makes to one of its reminders with its state write (see
    /// <see cref="IPersistentState{TState}.WriteStateAsync(IReadOnlyList{JournalEvent}, ReminderChange)"/>); checked
    /// as a registration is.</summary>
    internal ReminderWrite Plan(GrainId grain, Type grainType, ReminderChange change) =>
        change.DueAt is { } dueAt
            ? ReminderWrite.Set(Plan(grain, grainType, change.Name, DueMs(dueAt), change.Period))
            : ReminderWrite.Remove(new ReminderKey(grain, change.Name));

    /// <summary>After a state write with <paramref name="write"/> committed: the reminder is now as stored.</summary>
    internal void Committed(ReminderWrite write)
    {
        if (write.Record is { } record)
        {
            Stored(record);
        }
        else
        {
            Removed(write.Key);
        }
    }

    private ReminderRecord Plan(GrainId grain, Type grainType, string name, long dueAtMs, TimeSpan period)
    {
        if (!typeof(IRemindable).IsAssignableFrom(grainType))
        {
            throw new InvalidOperationException($"{grainType.Name} registers reminder '{name}' but does not implement {nameof(IRemindable)}.");
        }
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (period != TimeSpan.Zero && period < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "A reminder period is zero (fire once) or at least one second.");
        }
        return new ReminderRecord(grain, name, dueAtMs, (long)period.TotalMilliseconds, grain.Partition(_silo.PartitionCount));
    }

    // The reminder is stored as set: from now on it fires at its due time, and a tick in flight must not advance it.
    private void Stored(ReminderRecord record)
    {
        lock (_lock)
        {
            Touch(record.Key);
            if (record.DueAtMs < _watermarkMs)
            {
                _nearTerm[record.Key] = record;
                _due.Enqueue(record, record.DueAtMs);
            }
            else
            {
                _nearTerm.Remove(record.Key);
            }
        }
        _wake.TrySetResult();
    }

    private void Removed(ReminderKey key)
    {
        lock (_lock)
        {
            Touch(key);
            _nearTerm.Remove(key);
        }
    }

    public async Task<IReadOnlyList<ReminderInfo>> GetRemindersAsync(GrainId grain)
    {
        var records = await _storage.ReadRemindersAsync(grain);
        return records.Select(r => new ReminderInfo(r.Name, DateTimeOffset.FromUnixTimeMilliseconds(r.DueAtMs), TimeSpan.FromMilliseconds(r.PeriodMs))).ToList();
    }

    // Called under _lock by register/unregister: the grain's own change wins over a tick or a load in progress.
    private void Touch(ReminderKey key)
    {
        if (_firing.TryGetValue(key, out var firing))
        {
            firing.Touched = true;
        }
        _changedDuringLoad?.Add(key);
    }

    private async Task FireLoop(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                ResetWake(); // a wake from now on ends the coming wait early
                var now = NowMs;
                // At most as far ahead as the wait below counts as due (its "next" is the watermark minus the horizon
                // plus a step): with "<" here, a clock standing exactly on that moment neither loaded nor waited, and
                // the loop spun (for good under a test's manual clock, which only moves when told).
                if (_loading.IsCompleted && _watermarkMs - now <= _horizonMs - _loadStepMs)
                {
                    // Firing goes on while the next slice loads; the load wakes the loop when it has merged. Slices of
                    // a few seconds of due times keep each read (and its allocations) small at 10,000 reminders/s.
                    // A watermark already in the past (the clock jumped, or loads fell behind) catches up in one read.
                    var until = _watermarkMs <= now ? now + _horizonMs : Math.Min(now + _horizonMs, _watermarkMs + _loadStepMs);
                    _loading = LoadInBackground(until, token);
                }
                await FireDue(now, token);
                await WaitForNextAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                LogLoopFailed(_logger, error);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, token).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task FireDue(long now, CancellationToken token)
    {
        while (true)
        {
            ReminderRecord? record;
            Firing firing;
            lock (_lock)
            {
                if (!_due.TryPeek(out record, out var dueAt) || dueAt > now)
                {
                    return;
                }
                _due.Dequeue();
                if (!_nearTerm.TryGetValue(record.Key, out var current) || !ReferenceEquals(current, record))
                {
                    continue; // replaced or removed since it was queued
                }
                _nearTerm.Remove(record.Key);
                _firing[record.Key] = firing = new Firing();
            }
            await _tickSlots.WaitAsync(token);
            Deliver(record, firing);
        }
    }

    private void Deliver(ReminderRecord record, Firing firing)
    {
        var tick = new ReminderTick(this, record, firing);
        _inFlight[tick] = 0;
        try
        {
            _silo.SendTo(record.Grain, tick);
        }
        catch (GrainTypeNotFoundException error)
        {
            LogOrphan(_logger, record.Grain, record.Name, error.Message);
            lock (_lock)
            {
                EndFiring(record.Key, firing);
            }
            _ = _deletes.Enqueue(record.Key);
            Finished(tick);
            return;
        }
        _ = tick.ResultTask.ContinueWith(static (task, state) => ((ReminderTick)state!).Service.Completed((ReminderTick)state!), tick, TaskScheduler.Default);
    }

    private void Completed(ReminderTick tick)
    {
        if (tick.ResultTask.IsFaulted)
        {
            LogTickFailed(_logger, tick.Record.Grain, tick.Record.Name, tick.ResultTask.Exception!.GetBaseException());
            if (!tick.Advanced)
            {
                Retry(tick.Record, tick.Firing, tick.GrainFailed ? FailedTickRetryMs : 1000);
            }
        }
        Finished(tick);
    }

    private void Finished(ReminderTick tick)
    {
        _inFlight.TryRemove(tick, out _);
        _tickSlots.Release();
    }

    /// <summary>The tick never reached the grain, could not be persisted, or (one-shot) the grain failed handling it:
    /// keep it in memory (its row stays in the store, so a restart fires it too) and try again after
    /// <paramref name="afterMs"/>.</summary>
    private void Retry(ReminderRecord record, Firing firing, long afterMs)
    {
        var again = record with { DueAtMs = NowMs + afterMs };
        lock (_lock)
        {
            if (EndFiring(record.Key, firing))
            {
                return;
            }
            if (!_nearTerm.ContainsKey(record.Key))
            {
                _nearTerm[record.Key] = again;
                _due.Enqueue(again, again.DueAtMs);
            }
        }
        _wake.TrySetResult();
    }

    /// <summary>Runs inside the grain's tick turn, after ReceiveReminder: persists the next due time or the deletion.</summary>
    internal async Task AdvanceAsync(ReminderRecord record, Firing firing, long firedAtMs)
    {
        bool touched;
        lock (_lock)
        {
            touched = IsTouched(record.Key, firing);
        }
        if (!touched)
        {
            if (record.PeriodMs > 0)
            {
                var next = record.DueAtMs + (record.PeriodMs * (((firedAtMs - record.DueAtMs) / record.PeriodMs) + 1));
                var advanced = record with { DueAtMs = next };
                await _upserts.Enqueue(advanced);
                lock (_lock)
                {
                    if (!_nearTerm.ContainsKey(record.Key) && next < _watermarkMs)
                    {
                        _nearTerm[record.Key] = advanced;
                        _due.Enqueue(advanced, next);
                    }
                }
                _wake.TrySetResult();
            }
            else
            {
                await _deletes.Enqueue(record.Key);
            }
        }
        lock (_lock)
        {
            EndFiring(record.Key, firing);
        }
    }

    // Under _lock: the grain re-registered or removed the reminder during this delivery, or a newer delivery of it
    // (which only a re-registration can cause) took over; either way this delivery must not advance or delete it.
    private bool IsTouched(ReminderKey key, Firing firing) =>
        firing.Touched || !(_firing.TryGetValue(key, out var current) && ReferenceEquals(current, firing));

    // Under _lock: ends this delivery (leaving a newer one in place) and says whether it was touched.
    private bool EndFiring(ReminderKey key, Firing firing)
    {
        var touched = IsTouched(key, firing);
        if (_firing.TryGetValue(key, out var current) && ReferenceEquals(current, firing))
        {
            _firing.Remove(key);
        }
        return touched;
    }

    internal void RecordLateness(TimeSpan lateness) => _silo.Metrics.RecordReminderTick(lateness);

    internal TickStatus StatusFor(ReminderRecord record, out long firedAtMs)
    {
        var firedAt = _time.GetUtcNow();
        firedAtMs = firedAt.ToUnixTimeMilliseconds();
        return new TickStatus(DateTimeOffset.FromUnixTimeMilliseconds(record.DueAtMs), TimeSpan.FromMilliseconds(record.PeriodMs), firedAt);
    }

    private void ResetWake()
    {
        lock (_lock)
        {
            if (_wake.Task.IsCompleted)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private async Task WaitForNextAsync(CancellationToken token)
    {
        long next;
        Task wake;
        lock (_lock)
        {
            // While a load runs, its completion wakes the loop; otherwise wake when the next slice is due to load.
            next = _loading.IsCompleted ? _watermarkMs - _horizonMs + _loadStepMs : long.MaxValue;
            if (_due.TryPeek(out _, out var dueAt))
            {
                next = Math.Min(next, dueAt);
            }
            wake = _wake.Task;
        }
        // Wakes at least once a minute; a wake or the next due time ends the wait earlier.
        var delay = Math.Min(next - NowMs, 60_000);
        if (delay <= 0)
        {
            return;
        }
        using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(token);
        var sleeping = Task.Delay(TimeSpan.FromMilliseconds(delay), _time, cancelDelay.Token);
        if (NowMs < next)
        {
            // The clock may have moved between reading it and starting the delay (which then runs from the later
            // reading): only wait when the due moment is still ahead.
            await Task.WhenAny(sleeping, wake);
        }
        await cancelDelay.CancelAsync();
        token.ThrowIfCancellationRequested();
    }

    private async Task LoadInBackground(long until, CancellationToken token)
    {
        try
        {
            await LoadWindowAsync(until, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // shutting down
        }
        catch (Exception error)
        {
            LogLoadFailed(_logger, error); // the watermark went back: the loop loads the window again
        }
        finally
        {
            _wake.TrySetResult();
        }
    }

    /// <summary>Moves the watermark to <paramref name="until"/> and loads the reminders falling in the new window.
    /// The first load reaches back without limit, which is how due-while-down reminders fire after a restart.</summary>
    private async Task LoadWindowAsync(long until, CancellationToken token)
    {
        long from;
        lock (_lock)
        {
            from = _watermarkMs;
            _watermarkMs = until;
            _changedDuringLoad = [];
        }
        IReadOnlyList<ReminderRecord> records;
        try
        {
            records = await ReadWithRetry(from, until, token);
        }
        catch
        {
            lock (_lock)
            {
                _watermarkMs = from;
                _changedDuringLoad = null;
            }
            throw;
        }
        // Merged in slices so registrations and firing are not held up behind a window of a hundred thousand reminders.
        const int Slice = 5_000;
        for (var start = 0; start < records.Count; start += Slice)
        {
            lock (_lock)
            {
                for (var i = start; i < Math.Min(start + Slice, records.Count); i++)
                {
                    var record = records[i];
                    // A reminder being delivered is advanced by its tick, unless its grain re-registered it meanwhile:
                    // then the stored row is that registration's and must not be skipped.
                    if (!_nearTerm.ContainsKey(record.Key) && !_changedDuringLoad!.Contains(record.Key)
                        && !(_firing.TryGetValue(record.Key, out var firing) && !firing.Touched))
                    {
                        _nearTerm[record.Key] = record;
                        _due.Enqueue(record, record.DueAtMs);
                    }
                }
            }
            _wake.TrySetResult();
        }
        lock (_lock)
        {
            _changedDuringLoad = null;
        }
    }

    private async Task<IReadOnlyList<ReminderRecord>> ReadWithRetry(long from, long until, CancellationToken token)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await _storage.ReadDueRemindersAsync(_partitions, from, until, token);
            }
            catch (StorageUnavailableException) when (attempt < _retry.Attempts)
            {
                await Task.Delay(_retry.DelayBefore(attempt), token);
            }
        }
    }

    private async Task<IReadOnlyList<bool>> UpsertBatch(IReadOnlyList<ReminderRecord> batch, CancellationToken token)
    {
        await _storage.UpsertRemindersAsync(batch, token);
        return new bool[batch.Count];
    }

    private async Task<IReadOnlyList<bool>> DeleteBatch(IReadOnlyList<ReminderKey> batch, CancellationToken token)
    {
        await _storage.DeleteRemindersAsync(batch, token);
        return new bool[batch.Count];
    }

    /// <summary>One delivery of a reminder; touched when its grain registers or removes the reminder meanwhile.</summary>
    internal sealed class Firing
    {
        public bool Touched { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reminder loop failed; it resumes in a second")]
    private static partial void LogLoopFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the next reminder window failed; it is tried again")]
    private static partial void LogLoadFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reminder {Name} of {Grain} failed")]
    private static partial void LogTickFailed(ILogger logger, GrainId grain, string name, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reminder {Name} of {Grain} belongs to no registered grain class and is deleted: {Reason}")]
    private static partial void LogOrphan(ILogger logger, GrainId grain, string name, string reason);
}

/// <summary>The turn that delivers one reminder tick and persists its advancement.</summary>
internal sealed class ReminderTick(ReminderService service, ReminderRecord record, ReminderService.Firing firing) : VoidInvocation
{
    public ReminderService Service { get; } = service;
    public ReminderRecord Record { get; } = record;
    public ReminderService.Firing Firing { get; } = firing;
    public bool Advanced { get; private set; }

    /// <summary>The grain threw handling a one-shot reminder: it is delivered again, not deleted.</summary>
    public bool GrainFailed { get; private set; }

    public override string InterfaceName => "PowerService.Runtime.IRemindable";
    public override string MethodName => nameof(IRemindable.ReceiveReminder);
    public override int ArgumentCount => 2;

    public override object? GetArgument(int index) => index switch
    {
        0 => Record.Name,
        1 => Record.DueAtMs,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    protected override async Task InvokeCore(object grain)
    {
        var status = Service.StatusFor(Record, out var firedAtMs);
        Service.RecordLateness(status.FiredAt - status.DueAt);
        try
        {
            await ((IRemindable)grain).ReceiveReminder(Record.Name, status);
        }
        catch (Exception) when (Record.PeriodMs == 0)
        {
            // A one-shot reminder whose grain failed to handle it (its state write met a store that was away for 30 s)
            // was deleted all the same: the order's offer never lapsed, its SLA breach never came, and the grain, whose
            // stored record still named that moment, never set it again. Kept, and delivered again shortly.
            GrainFailed = true;
            throw;
        }
        finally
        {
            if (!GrainFailed)
            {
                await Service.AdvanceAsync(Record, Firing, firedAtMs);
                Advanced = true;
            }
        }
    }
}
