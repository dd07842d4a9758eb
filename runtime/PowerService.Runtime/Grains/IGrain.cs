namespace PowerService.Runtime;

/// <summary>Marks a grain interface. Every method returns <see cref="Task"/> or <see cref="Task{TResult}"/>;
/// a source generator emits the reference (proxy) and one invocation message type per method.</summary>
public interface IGrain;

/// <summary>Hands out grain references. A reference always works: the grain is activated on first call.</summary>
public interface IGrainFactory
{
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrain;
}

/// <summary>Implemented by grains that register durable reminders.</summary>
public interface IRemindable : IGrain
{
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <summary>What a reminder tick carries: when it was due and when it fired.</summary>
public readonly record struct TickStatus(DateTimeOffset DueAt, TimeSpan Period, DateTimeOffset FiredAt);

/// <summary>A grain interface method that may interleave with any other call to the same activation.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>A grain interface method (returning <see cref="System.Threading.Tasks.Task"/>) whose caller does not wait:
/// the returned task completes once the call is queued at the target, the method runs in its own turn later, and an
/// error it throws is logged and counted, not returned (Orleans' model). A one-way call carries no call chain (its
/// caller waits for nothing, so a call back cannot deadlock) and no deadline (nobody waits for it to time out). Calls
/// from one caller to one grain still run in the order they were sent. Use it where the caller's work is done once
/// the message is queued and the callee's outcome reaches it another way (an acknowledging call, a later retry).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute;

/// <summary>A grain class whose calls may all interleave at await points (still one thread at a time).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>Names a grain type in storage and reminders; defaults to the class name. Renaming a class
/// without this attribute orphans its stored state.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>How long an activation of this grain class may stay idle before it is deactivated.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class IdleTimeoutAttribute(int seconds) : Attribute
{
    public TimeSpan Timeout { get; } = TimeSpan.FromSeconds(seconds);
}
