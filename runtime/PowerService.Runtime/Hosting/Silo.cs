using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PowerService.Runtime.Diagnostics;
using PowerService.Runtime.Reminders;
using PowerService.Runtime.Storage;

namespace PowerService.Runtime;

/// <summary>A silo: hosts activations, routes calls to them, owns the group commit, reminders and the collector.
/// It is the <see cref="IGrainFactory"/> grains and the API use.</summary>
public sealed partial class Silo : IGrainFactory, IGrainCallSink, IAsyncDisposable
{
    private IJournal? _journal;
    private readonly Lock _stopLock = new();
    private Task? _stop;
    private readonly ConcurrentDictionary<GrainId, Activation> _activations = new();
    private readonly Dictionary<Type, GrainClass> _classByInterface = [];
    private readonly Dictionary<string, GrainClass> _classByTypeName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, Func<GrainReferenceContext, GrainReference>> _referenceFactories = new();
    private readonly SiloOptions _options;
    private readonly IStorageProvider _storage;
    private readonly GroupCommitQueue<StateWrite, StateWriteOutcome> _stateWrites;
    private readonly GroupCommitQueue<StateWrite, StateWriteOutcome> _backgroundStateWrites;
    private readonly GroupCommitQueue<GrainId, StoredState?> _stateReads;
    private readonly StorageCatalog _catalog;
    private readonly StorageRetryPolicy _retry;
    private readonly CancellationTokenSource _shutdown = new();
    // Read once: an activation still deactivating after the shutdown timeout may ask for it after the source is disposed.
    private readonly CancellationToken _shutdownToken;
    private readonly SemaphoreSlim _collectNow = new(0, 1);
    private readonly long _callTimeoutMs;
    private Task? _collector;
    private int _queueDepth;
    // ConcurrentDictionary.Count takes every lock of the dictionary; at a million entries that stalls all writers.
    private int _activationCount;
    [ThreadStatic]
    private static int t_latencySample;
    private readonly int _latencySampleMask;
    private volatile bool _stopped;
    private volatile bool _started;
    private volatile bool _stopping;
    private ISiloService[] _siloServices = [];
    private int _servicesStarted;

    public Silo(SiloOptions options, IStorageProvider storage, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        options.Validate();
        _options = options;
        _storage = storage;
        Services = services;
        Logger = loggerFactory.CreateLogger<Silo>();
        TimeProvider = options.TimeProvider;
        _shutdownToken = _shutdown.Token;
        StateSerializer = options.StateSerializer;
        _callTimeoutMs = (long)options.CallTimeout.TotalMilliseconds;
        _latencySampleMask = options.CallLatencySampling - 1;
        _retry = new StorageRetryPolicy(options.StorageRetryAttempts, options.StorageRetryDelay);
        RegisterGrainClasses(options.GrainAssemblies);
        StateWrites = new StoreWriteHealth(TimeProvider);
        Metrics = new RuntimeMetrics(this, _classByTypeName.Values.ToArray(), () => Volatile.Read(ref _queueDepth), () => Reminders!.InMemoryCount);
        _stateWrites = new GroupCommitQueue<StateWrite, StateWriteOutcome>(
            "state", (batch, ct) => WriteAndSignalAsync(batch, WriteUrgency.Awaited, ct), options.StateWriteBatchSize, options.StateWriters, _retry, Metrics, Logger);
        // Write-behind state nobody waits on goes through its own loop in small batches: when the store is the
        // bottleneck, a commit a caller waits on queues behind at most one small background batch, not a storm's backlog.
        _backgroundStateWrites = new GroupCommitQueue<StateWrite, StateWriteOutcome>(
            "state (background)", (batch, ct) => WriteAndSignalAsync(batch, WriteUrgency.Background, ct), options.BackgroundWriteBatchSize, 1, _retry, Metrics, Logger);
        _stateReads = new GroupCommitQueue<GrainId, StoredState?>(
            "read", (batch, ct) => storage.ReadStatesAsync(batch, ct), options.StateWriteBatchSize, options.StateWriters, _retry, Metrics, Logger);
        _catalog = new StorageCatalog(storage, options.StateWriteBatchSize, options.StateWriters, _retry, Metrics, Logger);
        Reminders = new ReminderService(this, storage, options, _retry, loggerFactory.CreateLogger<ReminderService>());
    }

    /// <summary>Whether the store takes grains' state writes now (readiness: a store that answers reads but refuses
    /// writes, such as a full disk, is not ready).</summary>
    public StoreWriteHealth StateWrites { get; }

    public IServiceProvider Services { get; }
    public TimeProvider TimeProvider { get; }
    public int PartitionCount => _options.PartitionCount;
    public IStorageProvider Storage => _storage;

    /// <summary>Pulsed after this silo commits journal events: live feeds wait on it instead of polling.</summary>
    public WakeSignal JournalAppends { get; } = new();

    /// <summary>The domain event journal, as grains read it.</summary>
    internal IJournal Journal => _journal ??= new StorageJournal(_storage);

    /// <summary>Reference data, as grains read it.</summary>
    internal ICatalog Catalog => _catalog;

    internal ILogger Logger { get; }

    internal RuntimeMetrics Metrics { get; }
    internal IGrainStateSerializer StateSerializer { get; }
    internal ReminderService Reminders { get; }
    internal CancellationToken ShutdownToken => _shutdownToken;

    /// <summary>True between a completed start and the beginning of shutdown.</summary>
    public bool IsRunning => _started && !_stopping;

    /// <summary>The silo's stop has begun (activations still starting then fail as its services go away).</summary>
    internal bool IsStopping => _stopping;

    /// <summary>Live activations in this silo.</summary>
    public int ActivationCount => Volatile.Read(ref _activationCount);

    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrain
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException($"A grain key must not be empty (asked for {typeof(TGrain).Name}).", nameof(key));
        }
        var grainClass = ClassFor(typeof(TGrain));
        return (TGrain)(object)ReferenceFactory(typeof(TGrain))(new GrainReferenceContext(new GrainId(grainClass.TypeName, key), this, grainClass));
    }

    /// <summary>A reference to an existing grain identity through one of its interfaces (used for reminders).</summary>
    internal TGrain GetGrain<TGrain>(GrainId id) where TGrain : IGrain =>
        (TGrain)(object)ReferenceFactory(typeof(TGrain))(new GrainReferenceContext(id, this, ClassFor(id)));

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _storage.InitializeAsync(cancellationToken);
        await Reminders.StartAsync(cancellationToken);
        _collector = Task.Run(CollectLoop, CancellationToken.None);
        _started = true;
        _siloServices = [.. Services.GetServices<ISiloService>()];
        foreach (var service in _siloServices)
        {
            await service.StartAsync(this, cancellationToken);
            _servicesStarted++;
        }
        LogStarted(Logger, _storage.Name, _options.PartitionCount, _classByTypeName.Count);
    }

    /// <summary>Stops reminders, deactivates every activation (running OnDeactivateAsync, which may write state) and
    /// waits until every queued state write is committed: no acknowledged write is lost.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!_started)
        {
            return Task.CompletedTask;
        }
        // The host's stop and the container's dispose may both stop the silo, at the same time: both await one stop.
        lock (_stopLock)
        {
            return _stop ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // Services stop first, while grains still take calls: an ingestion pump hands over what it holds. Only those
        // that started: one refusing to start (a notice folder it cannot write) stopped the others that never had.
        for (var i = _servicesStarted - 1; i >= 0; i--)
        {
            await _siloServices[i].StopAsync(cancellationToken);
        }
        _stopping = true;
        await Reminders.StopAsync();
        var deactivated = ActivationCount;
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.ShutdownTimeout.TotalSeconds * Stopwatch.Frequency);
        while (ActivationCount > 0 && Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
        {
            // Asks every activation, then waits a while before asking again (OnDeactivateAsync may activate others).
            foreach (var (_, activation) in _activations)
            {
                activation.RequestDeactivation(DeactivationReason.Shutdown);
            }
            // The wait between asks ends at the deadline too: a shutdown timeout of 100 ms is not 200.
            for (var wait = 0; wait < 20 && ActivationCount > 0 && Stopwatch.GetTimestamp() < deadline; wait++)
            {
                await Task.Delay(5, CancellationToken.None);
            }
        }
        _stopped = true;
        await _shutdown.CancelAsync();
        if (_collector is not null)
        {
            await _collector;
        }
        await _stateWrites.DrainAsync();
        await _backgroundStateWrites.DrainAsync();
        await _stateReads.DrainAsync();
        await _catalog.DrainAsync();
        await Reminders.DrainAsync();
        LogStopped(Logger, deactivated, ActivationCount, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Metrics.Dispose();
        _shutdown.Dispose();
        _collectNow.Dispose();
    }

    void IGrainCallSink.Send(GrainReference target, GrainReferenceContext context, Invocation invocation)
    {
        if (!Stamp(invocation, context.GrainId, context.Class))
        {
            return;
        }
        if (target.ActivationHint is Activation hinted && hinted.Enqueue(invocation))
        {
            return;
        }
        target.ActivationHint = Deliver(context.GrainId, context.Class, invocation);
    }

    /// <summary>Sends an invocation the runtime made itself (reminder ticks) to a grain identity.</summary>
    internal void SendTo(GrainId id, Invocation invocation)
    {
        var grainClass = ClassFor(id);
        if (Stamp(invocation, id, grainClass))
        {
            Deliver(id, grainClass, invocation);
        }
    }

    /// <summary>Re-routes a call that reached an activation as it was deactivating.</summary>
    internal void Forward(GrainId id, Invocation invocation)
    {
        if (!invocation.IsCompleted)
        {
            Deliver(id, ClassFor(id), invocation);
        }
    }

    private bool Stamp(Invocation invocation, GrainId target, GrainClass grainClass)
    {
        if (invocation.DeadlineTicks == 0)
        {
            // Nobody waits for a one-way call to time out: it stays queued until it runs.
            invocation.DeadlineTicks = invocation.IsOneWay ? long.MaxValue : Environment.TickCount64 + _callTimeoutMs;
        }
        // Latency is timed on a sample of calls: two timestamps and a histogram record on every call cost more than the
        // 3% budget for metrics on a call that takes well under a microsecond.
        if (Metrics.CallTimingEnabled && (++t_latencySample & _latencySampleMask) == 0)
        {
            invocation.StartTimestamp = Stopwatch.GetTimestamp();
        }
        if (Activation.Running is { } caller && !invocation.IsOneWay)
        {
            var chain = new CallChain(caller.Id, caller.CurrentRequest?.Chain);
            invocation.Chain = chain;
            if (!invocation.IsInterleaving && !grainClass.IsReentrant && chain.Contains(target))
            {
                invocation.Fail(new GrainCallCycleException(
                    $"Call cycle detected: {chain.Describe(target)}. {target} is already waiting in this call chain and is not reentrant; " +
                    $"mark {invocation.InterfaceName}.{invocation.MethodName} [AlwaysInterleave] or the grain class [Reentrant] if the cycle is intended."));
                return false;
            }
        }
        return true;
    }

    private Activation? Deliver(GrainId id, GrainClass grainClass, Invocation invocation)
    {
        while (true)
        {
            if (!_activations.TryGetValue(id, out var activation))
            {
                if (_stopped)
                {
                    invocation.Fail(new SiloUnavailableException($"The silo has shut down; {invocation.InterfaceName}.{invocation.MethodName} to {id} was not delivered."));
                    return null;
                }
                var created = new Activation(this, id, grainClass);
                activation = _activations.GetOrAdd(id, created);
                if (ReferenceEquals(activation, created)
                    && Interlocked.Increment(ref _activationCount) > _options.MaxActivations
                    && _collectNow.CurrentCount == 0)
                {
                    WakeCollector();
                }
            }
            if (activation.Enqueue(invocation))
            {
                return activation;
            }
        }
    }

    private void WakeCollector()
    {
        try
        {
            _collectNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken
        }
    }

    internal void Remove(Activation activation)
    {
        if (_activations.TryRemove(new KeyValuePair<GrainId, Activation>(activation.Id, activation)))
        {
            Interlocked.Decrement(ref _activationCount);
        }
    }

    /// <summary>Makes the active ones among <paramref name="grains"/> deactivate before their next call, so that call
    /// reaches a fresh activation that reads its state and catalog entries again (after an import changed them).
    /// Costs one lookup per grain that is not active. Returns how many were active.</summary>
    public int InvalidateActivations(IEnumerable<GrainId> grains)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var invalidated = 0;
        foreach (var grain in grains)
        {
            if (_activations.TryGetValue(grain, out var activation))
            {
                activation.RequestDeactivation(DeactivationReason.Invalidated);
                invalidated++;
            }
        }
        return invalidated;
    }

    /// <summary>Raised after an import changed entries of a catalog kind (the argument), for silo services that keep
    /// a view of the catalog in memory, such as a meter → transformer area directory.</summary>
    public event Action<string>? CatalogChanged;

    /// <summary>Tells the <see cref="CatalogChanged"/> subscribers that entries of <paramref name="kind"/> changed.</summary>
    public void NotifyCatalogChanged(string kind) => CatalogChanged?.Invoke(kind);

    /// <summary><see cref="InvalidateActivations(IEnumerable{GrainId})"/> for every activation of one grain type, for
    /// grains that summarize many entries (an area and all its customers). Scans the activations once.</summary>
    public int InvalidateActivations(string grainType)
    {
        var invalidated = 0;
        foreach (var (id, activation) in _activations)
        {
            if (string.Equals(id.Type, grainType, StringComparison.Ordinal))
            {
                activation.RequestDeactivation(DeactivationReason.Invalidated);
                invalidated++;
            }
        }
        return invalidated;
    }

    internal GrainCallTimeoutException TimeoutError(Invocation invocation, GrainId target, string state) =>
        new($"{invocation.InterfaceName}.{invocation.MethodName} to {target} timed out after {_options.CallTimeout.TotalSeconds:0.###} s: {state}.");

    /// <summary>Reads go through a group read like writes through the group commit: activations that start together
    /// share one round trip, and a store that is down is retried the same way.</summary>
    internal Task<StoredState?> ReadStateAsync(GrainId storageId) => _stateReads.Enqueue(storageId);

    internal Task<StateWriteOutcome> WriteStateAsync(StateWrite write, bool inBackground = false) =>
        (inBackground ? _backgroundStateWrites : _stateWrites).Enqueue(write);

    private async Task<IReadOnlyList<StateWriteOutcome>> WriteAndSignalAsync(
        IReadOnlyList<StateWrite> batch, WriteUrgency urgency, CancellationToken cancellationToken)
    {
        IReadOnlyList<StateWriteOutcome> outcomes;
        try
        {
            outcomes = await _storage.WriteStatesAsync(batch, urgency, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            StateWrites.Failed(error.Message);
            throw;
        }
        StateWrites.Succeeded();
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Applied && batch[i].Events is { Count: > 0 })
            {
                JournalAppends.Pulse();
                break;
            }
        }
        return outcomes;
    }

    private async Task CollectLoop()
    {
        var token = _shutdownToken;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _collectNow.WaitAsync(_options.CollectionInterval, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Collect();
        }
    }

    /// <summary>One pass of the collector: expire overdue calls, sample queue depth, deactivate idle activations and,
    /// above the cap, the least recently used ones.</summary>
    internal void Collect()
    {
        var now = Environment.TickCount64;
        var depth = 0;
        foreach (var (_, activation) in _activations)
        {
            depth += activation.Sweep(now);
            if (activation.IsIdle(now))
            {
                activation.RequestDeactivation(DeactivationReason.Idle);
            }
        }
        Volatile.Write(ref _queueDepth, depth);
        var excess = ActivationCount - _options.MaxActivations;
        if (excess > 0)
        {
            var oldest = _activations.Values.Where(a => a.IsValid).OrderBy(a => Volatile.Read(ref a.LastUsedTicks)).Take(excess);
            foreach (var activation in oldest)
            {
                activation.RequestDeactivation(DeactivationReason.MemoryPressure);
            }
        }
    }

    public RuntimeStatistics GetStatistics() => new(
        ActivationCount,
        _classByTypeName.Values.Where(c => c.ActivationCount > 0).ToDictionary(c => c.TypeName, c => c.ActivationCount),
        Volatile.Read(ref _queueDepth),
        Reminders.InMemoryCount,
        _storage.Name);

    private GrainClass ClassFor(Type grainInterface) =>
        _classByInterface.TryGetValue(grainInterface, out var grainClass)
            ? grainClass
            : throw new GrainTypeNotFoundException(
                $"No grain class implements {grainInterface.FullName}. Grain classes derive from {nameof(Grain)}; " +
                $"register the assembly that holds it with {nameof(SiloOptions)}.{nameof(SiloOptions.AddGrainsFrom)}.");

    internal GrainClass ClassFor(GrainId id) =>
        _classByTypeName.TryGetValue(id.Type, out var grainClass)
            ? grainClass
            : throw new GrainTypeNotFoundException($"No grain class has the grain type name '{id.Type}' (grain {id}).");

    private Func<GrainReferenceContext, GrainReference> ReferenceFactory(Type grainInterface) =>
        _referenceFactories.GetOrAdd(grainInterface, GrainReferenceRegistry.Get);

    private void RegisterGrainClasses(IEnumerable<Assembly> assemblies)
    {
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (type.IsAbstract || !typeof(Grain).IsAssignableFrom(type))
            {
                continue;
            }
            var grainClass = GrainClass.From(type, _options.DefaultIdleTimeout);
            if (!_classByTypeName.TryAdd(grainClass.TypeName, grainClass))
            {
                throw new InvalidOperationException($"Grain type name '{grainClass.TypeName}' is used by both {_classByTypeName[grainClass.TypeName].Type.FullName} and {type.FullName}.");
            }
            foreach (var grainInterface in type.GetInterfaces().Where(IsGrainInterface))
            {
                if (_classByInterface.TryGetValue(grainInterface, out var other) && other.Type != type)
                {
                    throw new InvalidOperationException($"{grainInterface.FullName} is implemented by both {other.Type.FullName} and {type.FullName}; a grain interface has one grain class.");
                }
                _classByInterface[grainInterface] = grainClass;
            }
        }
    }

    private static bool IsGrainInterface(Type type) =>
        typeof(IGrain).IsAssignableFrom(type) && type != typeof(IGrain) && type != typeof(IRemindable);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo started on {Store} storage: {Partitions} partitions, {GrainClasses} grain classes")]
    private static partial void LogStarted(ILogger logger, string store, int partitions, int grainClasses);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo stopped: {Deactivated} activations deactivated ({Left} left), state flushed in {Elapsed:0} ms")]
    private static partial void LogStopped(ILogger logger, int deactivated, int left, double elapsed);
}

/// <summary>A snapshot for the runtime stats endpoint and the monitor page.</summary>
public sealed record RuntimeStatistics(
    int Activations,
    IReadOnlyDictionary<string, int> ActivationsByType,
    int QueueDepth,
    int RemindersInMemory,
    string Store);
