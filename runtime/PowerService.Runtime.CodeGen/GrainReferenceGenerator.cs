using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PowerService.Runtime.CodeGen;

/// <summary>For every grain interface declared in the compilation, emits a grain reference (proxy), one
/// invocation class per method, and a module initializer that registers the references.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class GrainReferenceGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // No attribute marks a grain interface, so every interface is inspected for an IGrain base.
        var grainInterfaces = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntax, cancellationToken) => GrainInterfaceReader.Read(syntax, cancellationToken))
            .Where(static model => model is not null)
            .Select(static (model, _) => model!);

        context.RegisterSourceOutput(grainInterfaces, static (output, grainInterface) => EmitReference(output, grainInterface));

        var registrations = grainInterfaces
            .Where(static grainInterface => grainInterface.IsValid)
            .Select(static (grainInterface, _) => new Registration(grainInterface.InterfaceType, grainInterface.ProxyType))
            .Collect();
        var assemblyName = context.CompilationProvider
            .Select(static (compilation, _) => compilation.AssemblyName ?? "Assembly");
        context.RegisterSourceOutput(registrations.Combine(assemblyName), static (output, input) =>
        {
            var (all, name) = input;
            if (!all.IsEmpty)
            {
                output.AddSource(RegistrationEmitter.HintName, RegistrationEmitter.Emit(name, all));
            }
        });
    }

    private static void EmitReference(SourceProductionContext output, GrainInterfaceModel grainInterface)
    {
        foreach (var diagnostic in grainInterface.Diagnostics)
        {
            output.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
        if (grainInterface.IsValid)
        {
            output.AddSource(
                $"{grainInterface.GeneratedNamespace}.{grainInterface.ProxyName}.g.cs",
                ReferenceEmitter.Emit(grainInterface));
        }
    }
}
