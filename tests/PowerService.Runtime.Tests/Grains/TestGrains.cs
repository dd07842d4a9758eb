using System.Collections.Concurrent;

namespace PowerService.Runtime.Tests.Grains;

// Grains that exercise one runtime guarantee each. They record what happened in an in-process journal
// (TestJournal) so tests can see activations, turns and ticks from outside.

public interface ICounterGrain : IGrain
{
    Task<int> Add(int amount);

    /// <summary>Adds each amount and starts a write for each without waiting for the one before; every second one is a
    /// background write.</summary>
    Task AddEachWithoutWaiting(int[] amounts);

    /// <summary>Adds the amount, starts its write and asks to be deactivated, all without waiting for the write.</summary>
    Task AddAndDeactivateWithoutWaiting(int amount);
    Task<int> Get();
    Task<string> ActivationId();
    Task Deactivate();
}

public sealed record CounterState
{
    public int Value { get; init; }
}

public sealed class CounterGrain(IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    private readonly string _activationId = Guid.NewGuid().ToString("N");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        TestJournal.Record(GetPrimaryKeyString(), "activated");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        TestJournal.Record(GetPrimaryKeyString(), $"deactivated:{reason}");
        return Task.CompletedTask;
    }

    public async Task<int> Add(int amount)
    {
        var before = state.State;
        state.State = before with { Value = before.Value + amount };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before; // the store refused it: memory must not run ahead of the store
            throw;
        }
        return state.State.Value;
    }

    public Task AddEachWithoutWaiting(int[] amounts)
    {
        var writes = new List<Task>();
        foreach (var amount in amounts)
        {
            state.State = state.State with { Value = state.State.Value + amount };
            writes.Add(writes.Count % 2 == 0 ? state.WriteStateAsync() : state.WriteStateInBackgroundAsync());
        }
        return Task.WhenAll(writes);
    }

    public Task AddAndDeactivateWithoutWaiting(int amount)
    {
        state.State = state.State with { Value = state.State.Value + amount };
        _ = state.WriteStateAsync();
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task<int> Get() => Task.FromResult(state.State.Value);

    public Task<string> ActivationId() => Task.FromResult(_activationId);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public interface ISequenceGrain : IGrain
{
    Task Append(int value);
    Task<IReadOnlyList<int>> Values();
}

public sealed class SequenceGrain : Grain, ISequenceGrain
{
    private readonly List<int> _values = [];

    public async Task Append(int value)
    {
        if (value % 7 == 0)
        {
            await Task.Yield(); // an await inside a turn must not let the next call in
        }
        _values.Add(value);
    }

    public Task<IReadOnlyList<int>> Values() => Task.FromResult<IReadOnlyList<int>>(_values.ToList());
}

public interface IGateGrain : IGrain
{
    /// <summary>Waits for the gate to open, counting how many calls are inside at once.</summary>
    Task<int> PassWhenOpen();

    [AlwaysInterleave]
    Task Open();

    [AlwaysInterleave]
    Task<int> MostInsideAtOnce();

    Task Close();
}

public sealed class GateGrain : Grain, IGateGrain
{
    private TaskCompletionSource _gate = new();
    private int _inside;
    private int _most;

    public async Task<int> PassWhenOpen()
    {
        _inside++;
        _most = Math.Max(_most, _inside);
        await _gate.Task;
        await Task.Delay(5);
        _inside--;
        return _most;
    }

    public Task Open()
    {
        _gate.TrySetResult();
        return Task.CompletedTask;
    }

    public Task Close()
    {
        _gate = new TaskCompletionSource();
        return Task.CompletedTask;
    }

    public Task<int> MostInsideAtOnce() => Task.FromResult(_most);
}

public interface ISlowGrain : IGrain
{
    Task Sleep(int milliseconds);

    /// <summary>Holds the grain's turn until the test opens the gate named by the key (<see cref="MailboxGrain.GateFor"/>).</summary>
    Task Hold();

    Task<string> Ping();
    Task Fail(string message);

    /// <summary>Refuses the call the way a domain rule does (an <see cref="IRefusal"/>).</summary>
    Task Refuse(string message);
}

public sealed class SlowGrain : Grain, ISlowGrain
{
    public Task Sleep(int milliseconds) => Task.Delay(milliseconds);

    public Task Hold()
    {
        TestJournal.Record(GetPrimaryKeyString(), "holding");
        return MailboxGrain.GateFor(GetPrimaryKeyString()).Task;
    }

    public Task<string> Ping() => Task.FromResult("pong");

    public Task Fail(string message) => throw new InvalidOperationException(message);

    public Task Refuse(string message) => throw new RefusedException(message);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        TestJournal.Record(GetPrimaryKeyString(), $"deactivated:{reason}:cancelled={cancellationToken.IsCancellationRequested}");
        return Task.CompletedTask;
    }
}

public interface IChainGrain : IGrain
{
    /// <summary>Calls the next grain in the path, which calls the next; returns the keys visited.</summary>
    Task<string> Relay(string[] path, int index);

    [AlwaysInterleave]
    Task<string> RelayInterleaved(string[] path, int index);
}

public sealed class ChainGrain : Grain, IChainGrain
{
    public async Task<string> Relay(string[] path, int index)
    {
        if (index == path.Length)
        {
            return GetPrimaryKeyString();
        }
        var next = GrainFactory.GetGrain<IChainGrain>(path[index]);
        return GetPrimaryKeyString() + ">" + await next.Relay(path, index + 1);
    }

    public async Task<string> RelayInterleaved(string[] path, int index)
    {
        if (index == path.Length)
        {
            return GetPrimaryKeyString();
        }
        var next = GrainFactory.GetGrain<IChainGrain>(path[index]);
        return GetPrimaryKeyString() + ">" + await next.RelayInterleaved(path, index + 1);
    }
}

public interface IReminderGrain : IGrain
{
    Task Schedule(string name, TimeSpan due, TimeSpan period);
    Task Cancel(string name);
    Task<IReadOnlyList<ReminderInfo>> List();
}

public sealed class ReminderGrain : Grain, IReminderGrain, IRemindable
{
    /// <summary>A reminder of this name re-registers itself on its ticks: due at once on the first (and holding its turn
    /// a moment, so the re-registered tick is delivered while this one has not finished), an hour later on the second.</summary>
    public const string Relay = "relay";

    /// <summary>A reminder of this name fails its first tick, as a grain whose state write met a store that was away.</summary>
    public const string FailsOnce = "fails-once";

    private int _relayTicks;
    private bool _failed;

    public Task Schedule(string name, TimeSpan due, TimeSpan period) => RegisterOrUpdateReminder(name, due, period);

    public Task Cancel(string name) => UnregisterReminder(name);

    public Task<IReadOnlyList<ReminderInfo>> List() => GetReminders();

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        TestJournal.Record(GetPrimaryKeyString(), $"tick:{reminderName}:{status.DueAt.ToUnixTimeMilliseconds()}");
        if (reminderName == FailsOnce && !_failed)
        {
            _failed = true;
            throw new InvalidOperationException("the store is away");
        }
        if (reminderName == Relay && ++_relayTicks <= 2)
        {
            await RegisterOrUpdateReminder(Relay, _relayTicks == 1 ? TimeSpan.Zero : TimeSpan.FromHours(1), TimeSpan.Zero);
            if (_relayTicks == 1)
            {
                await Task.Delay(200);
            }
        }
    }
}

public interface IPromiseGrain : IGrain
{
    /// <summary>Stores the promise (its due time, or none) and, in the same write, sets or removes its reminder.</summary>
    Task Promise(TimeSpan? due, TimeSpan period);

    /// <summary>The promise as stored (null: none).</summary>
    Task<DateTimeOffset?> Promised();
    Task<IReadOnlyList<ReminderInfo>> List();
}

public sealed record PromiseState
{
    public DateTimeOffset? DueAt { get; init; }
    public int Ticks { get; init; }
}

/// <summary>Keeps one promise in its state and its wake-up in a reminder written with that state. On its first tick
/// it promises again an hour later (through its own state write, inside the tick).</summary>
public sealed class PromiseGrain(IPersistentState<PromiseState> state) : Grain, IPromiseGrain, IRemindable
{
    public const string Reminder = "promise";

    public async Task Promise(TimeSpan? due, TimeSpan period)
    {
        var at = due is { } after ? TimeProvider.GetUtcNow() + after : (DateTimeOffset?)null;
        var before = state.State;
        state.State = before with { DueAt = at };
        try
        {
            await state.WriteStateAsync([], at is { } dueAt ? ReminderChange.Set(Reminder, dueAt, period) : ReminderChange.Remove(Reminder));
        }
        catch
        {
            state.State = before;
            throw;
        }
    }

    public Task<DateTimeOffset?> Promised() => Task.FromResult(state.State.DueAt);

    public Task<IReadOnlyList<ReminderInfo>> List() => GetReminders();

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        TestJournal.Record(GetPrimaryKeyString(), $"tick:{reminderName}:{status.DueAt.ToUnixTimeMilliseconds()}");
        var ticks = state.State.Ticks + 1;
        state.State = state.State with { Ticks = ticks, DueAt = null };
        if (ticks == 1)
        {
            var next = status.DueAt.AddHours(1);
            state.State = state.State with { DueAt = next };
            await state.WriteStateAsync([], ReminderChange.Set(Reminder, next, TimeSpan.Zero));
            return;
        }
        await state.WriteStateAsync();
    }
}

public interface ITimerGrain : IGrain
{
    Task Start(TimeSpan period);
    Task StartFailing(TimeSpan period);
    Task<int> Ticks();
    Task<int> MostConcurrent();
    Task Busy(int milliseconds);
}

public sealed class TimerGrain : Grain, ITimerGrain
{
    private int _ticks;
    private int _inside;
    private int _most;

    public Task Start(TimeSpan period)
    {
        RegisterTimer(async _ =>
        {
            Enter();
            _ticks++;
            await Task.Yield();
            _inside--;
        }, period, period);
        return Task.CompletedTask;
    }

    /// <summary>A timer whose callback throws on every tick after counting it.</summary>
    public Task StartFailing(TimeSpan period)
    {
        RegisterTimer(_ =>
        {
            _ticks++;
            throw new InvalidOperationException("meter read failed");
        }, period, period);
        return Task.CompletedTask;
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);

    public Task<int> MostConcurrent() => Task.FromResult(_most);

    public async Task Busy(int milliseconds)
    {
        Enter();
        await Task.Delay(milliseconds);
        _inside--;
    }

    private void Enter()
    {
        _inside++;
        _most = Math.Max(_most, _inside);
    }
}

public interface IWriteBehindGrain : IGrain
{
    Task Increment();
    Task<int> Value();
}

/// <summary>Keeps its count in memory and writes it only when deactivated: shutdown must flush it.</summary>
public sealed class WriteBehindGrain(IPersistentState<CounterState> state) : Grain, IWriteBehindGrain
{
    public Task Increment()
    {
        state.State = state.State with { Value = state.State.Value + 1 };
        return Task.CompletedTask;
    }

    public Task<int> Value() => Task.FromResult(state.State.Value);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => state.WriteStateAsync();
}

public interface IUnserializableGrain : IGrain
{
    Task SaveGood(string text);
    Task SaveBad();
}

public sealed class UnserializableState
{
    public string Text { get; set; } = "";
    public object? Attachment { get; set; }
}

public sealed class UnserializableGrain(IPersistentState<UnserializableState> state) : Grain, IUnserializableGrain
{
    public Task SaveGood(string text)
    {
        state.State.Text = text;
        state.State.Attachment = null;
        return state.WriteStateAsync();
    }

    public Task SaveBad()
    {
        state.State.Text = "must not be stored";
        state.State.Attachment = new Action(() => { });
        return state.WriteStateAsync();
    }
}

/// <summary>An interface no grain class implements.</summary>
public interface IOrphanGrain : IGrain
{
    Task Nothing();
}

public static class TestJournal
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Entries = new();

    public static void Record(string key, string entry) => Entries.GetOrAdd(key, _ => new()).Enqueue(entry);

    public static IReadOnlyList<string> For(string key) => Entries.TryGetValue(key, out var q) ? q.ToList() : [];
}

public interface IMailboxGrain : IGrain
{
    /// <summary>Holds the grain's turn until the test opens the gate named by the key.</summary>
    Task Hold();

    [OneWay]
    Task Post(string item);

    Task Add(string item);

    /// <summary>Asks the grain named <paramref name="otherKey"/>, one-way, to add an item back to this grain, then
    /// holds this turn until the test opens the gate.</summary>
    Task AskForEchoAndHold(string otherKey);

    [OneWay]
    Task Echo(string senderKey);

    [OneWay]
    Task Explode(string message);

    Task<string[]> Items();
}

public sealed class MailboxGrain : Grain, IMailboxGrain
{
    private readonly List<string> _items = [];

    public static TaskCompletionSource GateFor(string key) => Gates.GetOrAdd(key, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    public Task Hold() => GateFor(GetPrimaryKeyString()).Task;

    public Task Post(string item)
    {
        _items.Add(item);
        return Task.CompletedTask;
    }

    public Task Add(string item) => Post(item);

    public Task AskForEchoAndHold(string otherKey)
    {
        GrainFactory.GetGrain<IMailboxGrain>(otherKey).Echo(GetPrimaryKeyString());
        return Hold();
    }

    public Task Echo(string senderKey) => GrainFactory.GetGrain<IMailboxGrain>(senderKey).Add($"echo from {GetPrimaryKeyString()}");

    public Task Explode(string message) => throw new InvalidOperationException(message);

    public Task<string[]> Items() => Task.FromResult(_items.ToArray());
}

public interface IJournaledGrain : IGrain
{
    /// <summary>Writes its state, with one journal event when <paramref name="journaled"/>.</summary>
    Task Record(string what, bool journaled);
}

public sealed class JournaledGrain(IPersistentState<CounterState> state) : Grain, IJournaledGrain
{
    public Task Record(string what, bool journaled)
    {
        state.State = state.State with { Value = state.State.Value + 1 };
        return journaled
            ? state.WriteStateAsync([new Storage.JournalEvent($"journaled/{GetPrimaryKeyString()}", what, DateTimeOffset.UtcNow, null, null, "{}")])
            : state.WriteStateAsync();
    }
}

public sealed class RefusedException(string message) : Exception(message), IRefusal;
