namespace PowerService.Runtime;

/// <summary>One call to a grain: the interface, the method and its arguments as fields. It is data, not a
/// closure, so it can be queued, timed out, traced and later sent to another silo. The source generator
/// emits one sealed subclass per grain interface method.</summary>
public abstract class Invocation
{
    public abstract string InterfaceName { get; }
    public abstract string MethodName { get; }

    /// <summary>True when the method is marked <see cref="AlwaysInterleaveAttribute"/>.</summary>
    public virtual bool IsInterleaving => false;

    /// <summary>True when the method is marked <see cref="OneWayAttribute"/>: the caller does not wait for it.</summary>
    public virtual bool IsOneWay => false;

    public abstract int ArgumentCount { get; }
    public abstract object? GetArgument(int index);

    /// <summary>The task the caller awaits.</summary>
    public abstract Task ResultTask { get; }

    internal CallChain? Chain;
    internal long DeadlineTicks;
    internal long StartTimestamp;

    internal bool IsCompleted => ResultTask.IsCompleted;

    /// <summary>Runs the method on the grain and completes the caller's task with its outcome. The returned
    /// task completes when the turn is over.</summary>
    internal abstract Task Execute(object grain);

    internal abstract void Fail(Exception error);
}

/// <summary>An invocation of a method that returns <see cref="Task{TResult}"/>.</summary>
public abstract class Invocation<TResult> : Invocation
{
    private readonly TaskCompletionSource<TResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TResult> Result => _result.Task;
    public sealed override Task ResultTask => _result.Task;

    protected abstract Task<TResult> InvokeCore(object grain);

    internal sealed override Task Execute(object grain)
    {
        Task<TResult> task;
        try
        {
            task = InvokeCore(grain);
        }
        catch (Exception error)
        {
            Fail(error);
            return Task.CompletedTask;
        }
        if (task.IsCompletedSuccessfully)
        {
            _result.TrySetResult(task.Result);
            return Task.CompletedTask;
        }
        return Complete(task);
    }

    private async Task Complete(Task<TResult> task)
    {
        try
        {
            _result.TrySetResult(await task);
        }
        catch (Exception error)
        {
            Fail(error);
        }
    }

    internal sealed override void Fail(Exception error) => _result.TrySetException(error);
}

/// <summary>An invocation of a method that returns <see cref="Task"/>.</summary>
public abstract class VoidInvocation : Invocation
{
    private readonly TaskCompletionSource _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Result => _result.Task;
    public sealed override Task ResultTask => _result.Task;

    protected abstract Task InvokeCore(object grain);

    internal sealed override Task Execute(object grain)
    {
        Task task;
        try
        {
            task = InvokeCore(grain);
        }
        catch (Exception error)
        {
            Fail(error);
            return Task.CompletedTask;
        }
        if (task.IsCompletedSuccessfully)
        {
            _result.TrySetResult();
            return Task.CompletedTask;
        }
        return Complete(task);
    }

    private async Task Complete(Task task)
    {
        try
        {
            await task;
            _result.TrySetResult();
        }
        catch (Exception error)
        {
            Fail(error);
        }
    }

    internal sealed override void Fail(Exception error) => _result.TrySetException(error);
}

/// <summary>The grains a call passed through, newest first; used to refuse a call that would wait on itself.</summary>
internal sealed class CallChain(GrainId grain, CallChain? parent)
{
    public GrainId Grain { get; } = grain;
    public CallChain? Parent { get; } = parent;

    public bool Contains(GrainId id)
    {
        for (var link = this; link is not null; link = link.Parent)
        {
            if (link.Grain == id)
            {
                return true;
            }
        }
        return false;
    }

    public string Describe(GrainId target)
    {
        var path = new List<string> { target.ToString() };
        for (var link = this; link is not null; link = link.Parent)
        {
            path.Add(link.Grain.ToString());
        }
        path.Reverse();
        return string.Join(" -> ", path);
    }
}
