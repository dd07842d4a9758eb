using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace PowerService.Runtime;

/// <summary>Where a reference sends its invocations. The local silo is one; a remote transport can be another.</summary>
internal interface IGrainCallSink
{
    void Send(GrainReference target, GrainReferenceContext context, Invocation invocation);
}

/// <summary>What a generated reference needs from the runtime.</summary>
public sealed class GrainReferenceContext
{
    internal GrainReferenceContext(GrainId grainId, IGrainCallSink sink, GrainClass grainClass)
    {
        GrainId = grainId;
        Sink = sink;
        Class = grainClass;
    }

    public GrainId GrainId { get; }
    internal IGrainCallSink Sink { get; }
    internal GrainClass Class { get; }
}

/// <summary>Base of every generated grain reference (proxy). Methods build an invocation and send it.</summary>
public abstract class GrainReference
{
    private readonly GrainReferenceContext _context;

    /// <summary>The activation this reference last reached; lets repeated calls skip the directory lookup.</summary>
    internal object? ActivationHint;

    protected GrainReference(GrainReferenceContext context) => _context = context;

    public GrainId GrainId => _context.GrainId;

    protected Task<TResult> InvokeAsync<TResult>(Invocation<TResult> invocation)
    {
        _context.Sink.Send(this, _context, invocation);
        return invocation.Result;
    }

    protected Task InvokeAsync(VoidInvocation invocation)
    {
        _context.Sink.Send(this, _context, invocation);
        return invocation.Result;
    }

    /// <summary>Sends a <see cref="OneWayAttribute"/> call: done for the caller once it is queued.</summary>
    protected Task InvokeOneWay(VoidInvocation invocation)
    {
        _context.Sink.Send(this, _context, invocation);
        return Task.CompletedTask;
    }

    public override string ToString() => GrainId.ToString();
}

/// <summary>Generated references register here from a module initializer, one line per grain interface.</summary>
public static class GrainReferenceRegistry
{
    private static readonly ConcurrentDictionary<Type, Func<GrainReferenceContext, GrainReference>> Factories = new();

    public static void Register(Type grainInterface, Func<GrainReferenceContext, GrainReference> factory) =>
        Factories[grainInterface] = factory;

    internal static Func<GrainReferenceContext, GrainReference> Get(Type grainInterface)
    {
        if (Factories.TryGetValue(grainInterface, out var factory))
        {
            return factory;
        }
        // typeof() does not run the declaring module's initializer; run it, then look again.
        RuntimeHelpers.RunModuleConstructor(grainInterface.Module.ModuleHandle);
        return Factories.TryGetValue(grainInterface, out factory)
            ? factory
            : throw new GrainTypeNotFoundException(
                $"'{grainInterface.FullName}' has no generated grain reference. A grain interface must derive from " +
                $"{nameof(IGrain)} and its project must reference PowerService.Runtime.CodeGen as an analyzer.");
    }
}
