using Microsoft.Extensions.Logging;

namespace PowerService.Runtime;

/// <summary>One live grain. Calls queue in its inbox and run one turn at a time, in arrival order, on the thread pool.
/// The activation is also the <see cref="SynchronizationContext"/> of its grain: every continuation after an await
/// in grain code is posted back here, so grain code never runs on two threads at once, even when interleaving.
/// The activation is created cheaply on first call; the grain instance is built in its first turn.</summary>
internal sealed partial class Activation : SynchronizationContext, IThreadPoolWorkItem
{
    [ThreadStatic]
    private static Activation? t_current;

    // Steps before the loop yields the thread, so one busy grain cannot hold a pool thread forever.
    private const int StepBudget = 64;

    // New work is queued on the current pool thread's local queue: the caller and the callee's turn then share a
    // thread and its cache (measured: ~1.5 M calls/s with the global queue, ~2.2 M/s with local queues). Idle threads
    // still steal from it.

    private readonly Lock _lock = new();
    private Queue<Invocation>? _inbox;
    private Queue<Invocation>? _interleavingInbox;
    private Queue<(SendOrPostCallback Callback, object? State)>? _work;
    private Grain? _grain;
    private Invocation? _running;
    private Invocation? _executing;
    private int _interleaved;
    private bool _scheduled;
    private Phase _phase;
    private DeactivationReason? _deactivation;
    private List<GrainTimer>? _timers;
    private List<IActivationState>? _states;
    private MethodCalls? _counter;
    private int _pendingCompleted;
    private int _pendingFailed;
    private int _pendingRefused;

    public Activation(Silo silo, GrainId id, GrainClass grainClass)
    {
        Silo = silo;
        Id = id;
        Class = grainClass;
        LastUsedTicks = Environment.TickCount64;
    }

    private enum Phase : byte
    {
        Created,
        Activating,
        Valid,
        Deactivating,
        Dead,
    }

    public Silo Silo { get; }
    public GrainId Id { get; }
    public GrainClass Class { get; }
    public long LastUsedTicks;

    /// <summary>The activation whose turn is running on this thread, if any.</summary>
    public static Activation? Running => t_current;

    /// <summary>The request whose code is running (or, between awaits, the non-interleaved request in its turn).</summary>
    public Invocation? CurrentRequest => _executing ?? _running;

    public bool IsValid => _phase == Phase.Valid;

    /// <summary>Queues a call. False when the activation is gone: the caller looks up (or creates) a new one.</summary>
    public bool Enqueue(Invocation invocation)
    {
        bool schedule;
        lock (_lock)
        {
            if (_phase == Phase.Dead)
            {
                return false;
            }
            // Interleaving calls have their own queue: they must not wait behind a call that waits for the running turn.
            var interleave = invocation.IsInterleaving || Class.IsReentrant;
            var queue = interleave ? _interleavingInbox ??= new Queue<Invocation>() : _inbox ??= new Queue<Invocation>();
            queue.Enqueue(invocation);
            LastUsedTicks = Environment.TickCount64;
            schedule = !_scheduled && (_running is null || interleave);
            _scheduled |= schedule;
        }
        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }
        return true;
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        bool schedule;
        lock (_lock)
        {
            (_work ??= new()).Enqueue((d, state));
            schedule = !_scheduled;
            _scheduled = true;
        }
        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Grain code cannot block on its own activation; await instead.");

    public override SynchronizationContext CreateCopy() => this;

    public void Execute()
    {
        var previous = SynchronizationContext.Current;
        SetSynchronizationContext(this);
        t_current = this;
        try
        {
            for (var budget = StepBudget; budget > 0; budget--)
            {
                (SendOrPostCallback Callback, object? State) work = default;
                Invocation? request = null;
                var lifecycle = Phase.Created;
                lock (_lock)
                {
                    if (_work is { Count: > 0 })
                    {
                        work = _work.Dequeue();
                    }
                    else if (_phase == Phase.Created)
                    {
                        _phase = lifecycle = Phase.Activating;
                    }
                    else if (_deactivation is DeactivationReason.Invalidated && _phase == Phase.Valid && _running is null && _interleaved == 0)
                    {
                        // The data it loaded changed: calls already queued go to a fresh activation, not this one.
                        _phase = lifecycle = Phase.Deactivating;
                    }
                    else if (!TryTakeRequest(out request))
                    {
                        if (_deactivation is not null && _phase == Phase.Valid && _running is null && _interleaved == 0)
                        {
                            _phase = lifecycle = Phase.Deactivating;
                        }
                        else
                        {
                            _scheduled = false;
                            return;
                        }
                    }
                }
                if (work.Callback is not null)
                {
                    RunWork(work.Callback, work.State);
                }
                else if (lifecycle == Phase.Activating)
                {
                    _ = ActivateAsync();
                }
                else if (lifecycle == Phase.Deactivating)
                {
                    _ = DeactivateAsync(_deactivation!.Value);
                }
                else
                {
                    StartRequest(request!);
                }
            }
            // Budget spent: back of the global queue, so a busy grain cannot starve the others on this thread (a local
            // queue is popped last-in first-out by its own thread).
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        finally
        {
            t_current = null;
            SetSynchronizationContext(previous);
        }
    }

    private bool TryTakeRequest(out Invocation? request)
    {
        request = null;
        if (_phase != Phase.Valid)
        {
            return false;
        }
        if (TryDequeueLive(_interleavingInbox, out request))
        {
            _interleaved++;
        }
        else if (_running is null && _interleaved == 0 && TryDequeueLive(_inbox, out request))
        {
            _running = request;
        }
        else
        {
            return false;
        }
        if (_deactivation is DeactivationReason.Idle or DeactivationReason.MemoryPressure)
        {
            _deactivation = null; // used again before the collector got to it: keep it
        }
        return true;
    }

    private static bool TryDequeueLive(Queue<Invocation>? queue, out Invocation? request)
    {
        while (queue is not null && queue.TryDequeue(out request))
        {
            if (!request.IsCompleted)
            {
                return true;
            }
            // timed out while waiting: the caller has its answer already
        }
        request = null;
        return false;
    }

    private void StartRequest(Invocation request)
    {
        _executing = request;
        var turn = request.Execute(_grain!);
        _executing = null;
        if (turn.IsCompleted)
        {
            RequestDone(request);
        }
        else
        {
            _ = AwaitTurn(turn, request);
        }
    }

    private async Task AwaitTurn(Task turn, Invocation request)
    {
        await turn; // Invocation.Execute never faults: the outcome went to the caller
        RequestDone(request);
    }

    private void RequestDone(Invocation request)
    {
        bool schedule;
        var count = Silo.Metrics.CallCountingEnabled;
        lock (_lock)
        {
            if (ReferenceEquals(request, _running))
            {
                _running = null;
            }
            else
            {
                _interleaved--;
            }
            if (count)
            {
                CountLocked(request);
            }
            LastUsedTicks = Environment.TickCount64;
            schedule = !_scheduled && (_inbox is { Count: > 0 } || _interleavingInbox is { Count: > 0 } || _deactivation is not null);
            _scheduled |= schedule;
        }
        Silo.Metrics.RecordLatency(Class, request);
        if (request.IsOneWay && request.ResultTask.Exception is { } error)
        {
            LogOneWayFailed(Silo.Logger, request.InterfaceName, request.MethodName, Id, error.InnerException ?? error);
        }
        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }
    }

    // Calls are counted in plain fields under the lock RequestDone holds anyway; the collector's pass, a change of
    // method and the end of the activation add them to the class's per-method counters.
    private void CountLocked(Invocation request)
    {
        if (_counter is null || !ReferenceEquals(_counter.Method, request.MethodName))
        {
            FlushCountsLocked();
            _counter = Class.CounterFor(request.MethodName);
        }
        _pendingCompleted++;
        if (request.ResultTask.Exception is { } error)
        {
            if (error.InnerException is IRefusal)
            {
                _pendingRefused++;
            }
            else
            {
                _pendingFailed++;
            }
        }
    }

    private void FlushCountsLocked()
    {
        if (_counter is not null && _pendingCompleted != 0)
        {
            _counter.Add(_pendingCompleted, _pendingFailed, _pendingRefused);
            _pendingCompleted = _pendingFailed = _pendingRefused = 0;
        }
    }

    private void RunWork(SendOrPostCallback callback, object? state)
    {
        try
        {
            callback(state);
        }
        catch (Exception error)
        {
            LogWorkFailed(Silo.Logger, Id, error);
        }
    }

    private async Task ActivateAsync()
    {
        try
        {
            var (grain, states) = Class.Create(this);
            _states = states;
            if (states is not null)
            {
                foreach (var state in states)
                {
                    await state.ReadStateAsync();
                }
            }
            await grain.OnActivateAsync(Silo.ShutdownToken);
            _grain = grain;
            Class.Activated();
            lock (_lock)
            {
                _phase = Phase.Valid;
            }
        }
        catch (Exception error)
        {
            if (!Silo.IsStopping)
            {
                LogActivationFailed(Silo.Logger, Id, error);
            }
            else
            {
                // A silo stopping (a port already taken ends the start at once) fails the activations still starting:
                // its services are going away. Not an error of the grain's, and it buried the one line saying why.
                LogActivationFailedWhileStopping(Silo.Logger, Id, error.GetType().Name);
            }
            StopTimers();
            Silo.Remove(this);
            foreach (var pending in Close())
            {
                pending.Fail(error);
            }
            Silo.Metrics.RecordDeactivation(DeactivationReason.ActivationFailed);
        }
    }

    /// <summary>Asks the activation to deactivate when it next has nothing to do. Idle and memory-pressure requests
    /// are withdrawn if a call arrives first.</summary>
    public void RequestDeactivation(DeactivationReason reason = DeactivationReason.Requested)
    {
        bool schedule;
        lock (_lock)
        {
            // Only shutdown replaces an invalidation: the others let queued calls run first, on data known to be stale.
            if (_phase is Phase.Deactivating or Phase.Dead || _deactivation is DeactivationReason.Shutdown
                || (_deactivation is DeactivationReason.Invalidated && reason is not DeactivationReason.Shutdown))
            {
                return;
            }
            _deactivation = reason;
            schedule = !_scheduled;
            _scheduled = true;
        }
        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }
    }

    private async Task DeactivateAsync(DeactivationReason reason)
    {
        StopTimers();
        try
        {
            await _grain!.OnDeactivateAsync(reason, Silo.ShutdownToken);
        }
        catch (Exception error)
        {
            LogDeactivationFailed(Silo.Logger, Id, error);
        }
        // A write the grain started without waiting for it is stored before the grain is gone: the next activation
        // reads it (and writes on from its version) instead of a stale record.
        foreach (var state in _states ?? [])
        {
            await state.WritesDone();
        }
        // Leave the directory before closing: a caller that still reaches this activation is forwarded below.
        Silo.Remove(this);
        var leftovers = Close();
        Class.Deactivated();
        Silo.Metrics.RecordDeactivation(reason);
        foreach (var pending in leftovers)
        {
            Silo.Forward(Id, pending);
        }
    }

    private List<Invocation> Close()
    {
        lock (_lock)
        {
            FlushCountsLocked();
            _phase = Phase.Dead;
            var leftovers = new List<Invocation>();
            leftovers.AddRange(_inbox ?? []);
            leftovers.AddRange(_interleavingInbox ?? []);
            _inbox = _interleavingInbox = null;
            return leftovers;
        }
    }

    /// <summary>The collector's visit: fails calls that waited or ran past their deadline, releases the queues of an
    /// activation that is not executing (an idle activation keeps only its fields), and returns the queue length.</summary>
    public int Sweep(long nowTicks)
    {
        lock (_lock)
        {
            if (_running is { } running && running.DeadlineTicks < nowTicks && !running.IsCompleted)
            {
                running.Fail(Silo.TimeoutError(running, Id, "the grain is still running it"));
            }
            FlushCountsLocked();
            var depth = Expire(_inbox, nowTicks) + Expire(_interleavingInbox, nowTicks);
            if (!_scheduled && depth == 0 && _work is not { Count: > 0 })
            {
                _inbox = _interleavingInbox = null;
                _work = null;
            }
            return depth;
        }
    }

    private int Expire(Queue<Invocation>? queue, long nowTicks)
    {
        if (queue is null)
        {
            return 0;
        }
        foreach (var waiting in queue)
        {
            if (waiting.DeadlineTicks >= nowTicks)
            {
                break; // arrival order: the rest are younger
            }
            if (!waiting.IsCompleted)
            {
                waiting.Fail(Silo.TimeoutError(waiting, Id, "it was still waiting behind an earlier call"));
            }
        }
        return queue.Count;
    }

    public bool IsIdle(long nowTicks) =>
        _phase == Phase.Valid && _running is null && _interleaved == 0 && _inbox is not { Count: > 0 }
        && _interleavingInbox is not { Count: > 0 } && nowTicks - Volatile.Read(ref LastUsedTicks) > (long)Class.IdleTimeout.TotalMilliseconds;

    public IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new GrainTimer(this, callback, dueTime, period);
        (_timers ??= []).Add(timer);
        return timer;
    }

    public void TimerDisposed(GrainTimer timer) => _timers?.Remove(timer);

    private void StopTimers()
    {
        if (_timers is null)
        {
            return;
        }
        foreach (var timer in _timers.ToArray())
        {
            timer.Dispose();
        }
        _timers = null;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Activation of {Grain} ended by the silo's stop ({Error}); its waiting calls get the error")]
    private static partial void LogActivationFailedWhileStopping(ILogger logger, GrainId grain, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Activation of {Grain} failed; its waiting calls get the error")]
    private static partial void LogActivationFailed(ILogger logger, GrainId grain, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OnDeactivateAsync of {Grain} failed")]
    private static partial void LogDeactivationFailed(ILogger logger, GrainId grain, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "One-way call {Interface}.{Method} to {Grain} failed; its caller does not wait for it")]
    private static partial void LogOneWayFailed(ILogger logger, string @interface, string method, GrainId grain, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "A continuation posted to {Grain} threw")]
    private static partial void LogWorkFailed(ILogger logger, GrainId grain, Exception error);
}
