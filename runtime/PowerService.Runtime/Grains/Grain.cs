namespace PowerService.Runtime;

/// <summary>Base class of every grain. A grain class is small: its state, a few async methods, no infrastructure.
/// The runtime calls it one turn at a time, so its fields need no locks.</summary>
public abstract class Grain
{
    private Activation? _activation;

    internal Activation Activation
    {
        get => _activation ?? throw new InvalidOperationException("The grain is not activated: grains are created by the runtime, not with 'new'.");
        set => _activation = value;
    }

    /// <summary>This grain's identity (type name and key).</summary>
    public GrainId GrainId => Activation.Id;

    /// <summary>This grain's key.</summary>
    public string GetPrimaryKeyString() => Activation.Id.Key;

    protected IGrainFactory GrainFactory => Activation.Silo;

    /// <summary>The silo's clock; tests replace it to move time without sleeping.</summary>
    protected TimeProvider TimeProvider => Activation.Silo.TimeProvider;

    /// <summary>Runs before the first call, after persistent state was read.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs before the activation is dropped (idle, memory cap, request, shutdown). Write state here if needed.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Starts an in-memory timer whose ticks are turns of this grain (they do not interleave with calls).
    /// Stopped on deactivation; dispose the result to stop it earlier.</summary>
    protected IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
        Activation.RegisterTimer(callback, dueTime, period);

    /// <summary>Registers or replaces a durable reminder: it survives deactivation and restarts and activates the grain
    /// when due. A zero <paramref name="period"/> makes it fire once. The grain must implement <see cref="IRemindable"/>.</summary>
    protected Task RegisterOrUpdateReminder(string name, TimeSpan dueTime, TimeSpan period) =>
        Activation.Silo.Reminders.RegisterAsync(this, name, dueTime, period);

    /// <summary>Registers or replaces a durable reminder that first fires at <paramref name="dueAt"/> (at once if that
    /// has passed). Use it when the grain knows the moment: a relative due time computed from an earlier reading of
    /// the clock would fire late by however long the turn took between reading the clock and registering.</summary>
    protected Task RegisterOrUpdateReminder(string name, DateTimeOffset dueAt, TimeSpan period) =>
        Activation.Silo.Reminders.RegisterAtAsync(this, name, dueAt, period);

    protected Task UnregisterReminder(string name) => Activation.Silo.Reminders.UnregisterAsync(GrainId, name);

    /// <summary>The names and due times of this grain's reminders.</summary>
    protected Task<IReadOnlyList<ReminderInfo>> GetReminders() => Activation.Silo.Reminders.GetRemindersAsync(GrainId);

    /// <summary>Deactivates this grain once the current turn is over; the next call activates it afresh.</summary>
    protected void DeactivateOnIdle() => Activation.RequestDeactivation();

    /// <summary>Deactivates this grain once the current turn is over, unless it takes another call first: for an
    /// activation that holds nothing worth keeping, such as one asked for an entity its store does not have. An unknown
    /// id then costs a store read, not an activation kept for the idle timeout (ids guessed by the thousand would
    /// otherwise fill the silo's memory and push real activations out at its cap).</summary>
    protected void DeactivateIfUnused() => Activation.RequestDeactivation(DeactivationReason.Idle);
}

public enum DeactivationReason
{
    Idle,
    MemoryPressure,
    Requested,
    Shutdown,
    ActivationFailed,

    /// <summary>What the activation loaded changed underneath it (e.g. a catalog import): it goes before taking
    /// another call, and the calls queued meanwhile reach a fresh activation.</summary>
    Invalidated,
}

/// <summary>A reminder as a grain sees it.</summary>
public sealed record ReminderInfo(string Name, DateTimeOffset DueAt, TimeSpan Period);

/// <summary>A change to one of the grain's own reminders that is stored with its state
/// (<see cref="IPersistentState{TState}.WriteStateAsync(IReadOnlyList{Storage.JournalEvent}, ReminderChange)"/>): the
/// state and the reminder commit in one transaction, so a state that counts on a reminder is never stored without it.
/// <see cref="Set"/> registers or replaces it (a zero period fires once); <see cref="Remove"/> removes it.</summary>
public readonly record struct ReminderChange(string Name, DateTimeOffset? DueAt, TimeSpan Period)
{
    public static ReminderChange Set(string name, DateTimeOffset dueAt, TimeSpan period) => new(name, dueAt, period);

    public static ReminderChange Remove(string name) => new(name, null, TimeSpan.Zero);
}
